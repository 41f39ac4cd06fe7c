"""The names of statuses and roles as pages show them, in the page's language.

The values themselves (`open`, `worker`, …) stay English in the database and the API; pages show
`{{ value|label }}`. Marked here with `N_` so that extraction puts them in the catalogs."""

from __future__ import annotations

from server.i18n import N_, gettext

LABELS: frozenset[str] = frozenset({
    # room status
    N_("scheduled"), N_("open"), N_("ended"),
    # staff and room roles
    N_("admin"), N_("counselor"), N_("interpreter"), N_("worker"), N_("observer"), N_("host"),
    # admission
    N_("waiting"), N_("admitted"), N_("denied"), N_("removed"),
    # transcription consent
    N_("consented"), N_("declined"), N_("not asked"),
})


def label(value: object) -> str:
    """`value` (an enum or its text) in the page's language; unknown values as they are."""
    text = str(getattr(value, "value", value))
    return gettext(text) if text in LABELS else text
