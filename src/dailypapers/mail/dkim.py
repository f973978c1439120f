"""DKIM signatures (dkimpy) on rendered messages; imported lazily by mailers with a key."""

from __future__ import annotations

from dataclasses import dataclass

from dailypapers.mail.message import RenderedMessage


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A DKIM signing key; the TXT record `<selector>._domainkey.<domain>` holds its public half."""

    selector: str
    domain: str
    private_key: bytes  # PEM, RSA or Ed25519


# The headers a DKIM signature covers (those present in the message).
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


def dkim_sign(message: RenderedMessage, key: DkimKey) -> bytes:
    """The message's bytes with a DKIM-Signature header in front (dkimpy, relaxed/relaxed).

    dkimpy signs with RSA in pure Python: a 2048-bit signature costs several milliseconds of CPU,
    which bounds a DKIM-signed run's rate (docs/digests.md, "Performance")."""
    import dkim  # only mailers with a key pay for the import

    names = {n.lower().encode("ascii") for n in message.header_names}
    present = [h for h in DKIM_HEADERS if h in names]
    signature = dkim.sign(
        message.data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=present,
    )
    return bytes(signature) + message.data
