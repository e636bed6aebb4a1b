"""A URL as messages and logs may show it: without the credentials it carries.

A client's answer (an error, /readyz) and the service's log name the ledger and the registry by
URL; their passwords must not go with it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Query parameters that hold a secret: libpq's password, and the passphrase of the client's SSL
# key (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS).
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


def redacted_url(url: str) -> str:
    """`url` without its password: neither the one in its user part (`user:password@host`) nor
    the `password` and `sslpassword` query parameters libpq also takes. The hosts stay as
    written (an IPv6 address keeps its brackets, a list of hosts its commas); a URL without a
    secret is returned unchanged."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if name not in SECRET_PARAMETERS]
    if parts.password is None and len(kept) == len(query):
        return url
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hosts = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{hosts}" if user else hosts
    if len(kept) != len(query):
        parts = parts._replace(query=urlencode(kept, quote_via=quote))
    return urlunsplit(parts._replace(netloc=netloc))


def without_url_secrets(text: str, url: str) -> str:
    """`text` (a library's message that may quote `url`, whole or in part) with the secrets of
    `url` taken out as redacted_url takes them out of the URL: the `:password` of its user
    part, and the value of each secret query parameter (written `***`)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    if ":" in userinfo:
        user, _, password = userinfo.partition(":")
        text = text.replace(f"{user}:{password}@", f"{user}@")
    for raw in parts.query.split("&"):
        name, _, value = raw.partition("=")
        if name in SECRET_PARAMETERS and value:
            text = text.replace(f"{name}={value}", f"{name}=***")
    return text
