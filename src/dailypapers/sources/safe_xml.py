"""Parse upstream XML safely: no DTDs, no entity expansion, no external resources.

Every upstream document goes through `parse_xml`; a refused or broken document becomes a clear
`SourceUnavailable` naming its source, before anything is stored.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from dailypapers.errors import SourceUnavailable


def parse_xml(body: bytes, source: str) -> Element:
    try:
        # forbid_dtd: arXiv never sends a DTD, so any DOCTYPE (entity bombs live there) is refused
        # before a single entity is declared, let alone expanded.
        return SafeElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SourceUnavailable(
            f"{source} sent an XML document with a DTD or entities, refused unparsed ({exc})"
        ) from None
    except ParseError as exc:
        raise SourceUnavailable(f"{source} sent malformed or truncated XML ({exc})") from None
