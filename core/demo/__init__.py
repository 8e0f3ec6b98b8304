"""A loopback HTTP/1.1 server that misbehaves on request, and the `haul demo` site on it.

Used by `haul demo` for an offline catalogue and by the tests as the real server
downloads run against.
"""

from core.demo.faults import Fault
from core.demo.protocol import ByteRange, parse_range
from core.demo.server import LoopbackServer, Redirect, Resource, check_loopback
from core.demo.site import DemoItem, DemoSite, catalogue
from core.demo.stats import RequestRecord

__all__ = [
    "ByteRange",
    "DemoItem",
    "DemoSite",
    "Fault",
    "LoopbackServer",
    "Redirect",
    "RequestRecord",
    "Resource",
    "catalogue",
    "check_loopback",
    "parse_range",
]
