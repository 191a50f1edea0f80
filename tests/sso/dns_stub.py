"""A tiny DNS server for tests: UDP on 127.0.0.1, in a thread, built on dnspython's message API.

    with StubDns() as dns_server:
        dns_server.txt["_auzlearn.acme.test"] = ["auzlearn-verification=..."]
        settings.SSO_DNS_NAMESERVERS = [dns_server.address]

It answers TXT questions for the names in ``txt`` (NOERROR without records for other types of
a known name, NXDOMAIN for unknown names), or, as ``mode`` says, SERVFAIL to everything or
nothing at all (a server that times out). Every question it receives is kept in ``questions``.
"""

import socket
import threading
from types import TracebackType
from typing import Literal

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

Mode = Literal["answer", "servfail", "silent"]


class StubDns:
    def __init__(self) -> None:
        self.txt: dict[str, list[str | list[str]]] = {}  # a value, or its strings (> 255 bytes)
        self.mode: Mode = "answer"
        self.questions: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="stub-dns", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def __enter__(self) -> "StubDns":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._reply(dns.message.from_wire(wire))
            if reply is not None:
                self._socket.sendto(reply.to_wire(), client)

    def _reply(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.questions.append((name, dns.rdatatype.to_text(question.rdtype)))
        if self.mode == "silent":
            return None
        reply = dns.message.make_response(query)
        if self.mode == "servfail":
            reply.set_rcode(dns.rcode.SERVFAIL)
        elif name not in self.txt:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            records = [
                dns.rdtypes.ANY.TXT.TXT(
                    dns.rdataclass.IN,
                    dns.rdatatype.TXT,
                    [value] if isinstance(value, str) else value,
                )
                for value in self.txt[name]
            ]
            reply.answer.append(dns.rrset.from_rdata_list(question.name, 300, records))
        return reply
