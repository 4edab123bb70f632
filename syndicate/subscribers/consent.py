"""Consent: when a reader asked to subscribe, from which form, and when they confirmed.

One row per address (the latest confirmed request), kept apart from the subscriber
table so that an import or an edit by the owner never rewrites it. The owner's
`subscribers export` carries these columns; `subscribers remove --forget` erases the row.
"""

from __future__ import annotations

from dataclasses import dataclass

from syndicate.subscribers.db import Connection, translated

SCHEMA = """
CREATE TABLE IF NOT EXISTS consent (
    email_key TEXT PRIMARY KEY,
    requested TEXT NOT NULL,
    form TEXT NOT NULL,
    confirmed TEXT NOT NULL
);
"""
COLUMNS = ("consent_requested", "consent_form", "consent_confirmed")


@dataclass(frozen=True, slots=True)
class Consent:
    requested: str  # ISO 8601: when the form was posted
    form: str  # which form: "subscribe-page", "embedded", "manage-page", ...
    confirmed: str  # ISO 8601: when the link in the confirmation email was used

    def columns(self) -> tuple[str, str, str]:
        return (self.requested, self.form, self.confirmed)


NONE = ("", "", "")


def record(conn: Connection, email_key: str, consent: Consent) -> None:
    """Keep the latest confirmation of `email_key` (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO consent (email_key, requested, form, confirmed) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (email_key) DO UPDATE SET requested = excluded.requested, form = excluded.form, "
        "confirmed = excluded.confirmed",
        (email_key, consent.requested, consent.form, consent.confirmed),
    )


@translated
def all_consent(conn: Connection) -> dict[str, Consent]:
    """Every recorded consent, by address key."""
    conn.executescript(SCHEMA)
    rows = conn.execute("SELECT email_key, requested, form, confirmed FROM consent").fetchall()
    return {str(key): Consent(str(req), str(form), str(conf)) for key, req, form, conf in rows}
