"""What the form routes share, made once per app from its services: the link signer, the
attachment store and the form texts (with their machine-translation cache)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server.deps import get_services
from server.forms.attachments import AttachmentStore
from server.forms.links import FormLinks
from server.forms.texts import FormTexts
from server.services import Services


@dataclass(frozen=True, slots=True)
class FormsKit:
    links: FormLinks
    store: AttachmentStore
    texts: FormTexts
    files_per_field: int
    link_days: float

    @classmethod
    def of(cls, services: Services) -> FormsKit:
        settings = services.settings
        return cls(
            links=FormLinks(settings.secret_key.get_secret_value()),
            store=AttachmentStore(settings.data_dir / "attachments",
                                  int(settings.form_attachment_max_mb * 1024 * 1024)),
            texts=FormTexts(services.translations), files_per_field=settings.form_files_per_field,
            link_days=settings.form_link_days)


def get_kit(request: Request) -> FormsKit:
    kit: FormsKit | None = getattr(request.app.state, "forms_kit", None)
    if kit is None:
        kit = FormsKit.of(get_services(request))
        request.app.state.forms_kit = kit
    return kit


KitDep = Annotated[FormsKit, Depends(get_kit)]
