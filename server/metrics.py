"""`GET /metrics` in Prometheus' text format, read from the running services at each scrape.

One `CollectorRegistry` per app (several servers can run in one process, as tests do), with a
collector that asks the services for their figures when scraped: nothing is counted twice and
nothing global is kept. Who may scrape: a client presenting `COUNSEL_METRICS_TOKEN` as a bearer
token, or, without a token configured, a client on loopback only (a scraper beside the node).
Latencies and errors are counted as they happen, by the app's `Instruments`; docs/operations.md
lists every metric.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from media.rtc.forwarding import ForwardingTrack
from server.errors import Forbidden
from server.services import Services

router = APIRouter(tags=["metrics"])

LOOPBACK = {"127.0.0.1", "::1"}


class ServicesCollector(Collector):
    """The node's figures, read from its services when scraped."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services
        yield GaugeMetricFamily("counsel_rooms", "Rooms with a socket on this node",
                                value=services.hub.room_count())
        yield GaugeMetricFamily("counsel_room_sockets", "Room sockets open on this node",
                                value=services.hub.connection_count())
        yield GaugeMetricFamily("counsel_draining", "1 while the node is shutting down",
                                value=int(services.draining))
        yield from self._media()
        yield from self._chat()
        yield from self._captions()
        yield from self._translation()
        yield from services.instruments.collect()

    def _media(self) -> Iterator[Metric]:
        media = self._services.media
        counts = [media.counts(room_id) for room_id in media.room_ids]
        yield GaugeMetricFamily("counsel_media_rooms", "Rooms with a media router on this node",
                                value=len(counts))
        yield GaugeMetricFamily("counsel_media_peers", "WebRTC peers of participants",
                                value=sum(c.peers for c in counts))
        yield GaugeMetricFamily("counsel_media_publications", "Tracks received from publishers",
                                value=sum(c.publications for c in counts))
        yield GaugeMetricFamily("counsel_media_forwarding_tracks",
                                "Tracks forwarded to subscribers",
                                value=sum(c.forwarding_tracks for c in counts))
        yield CounterMetricFamily("counsel_media_forwarded_packets",
                                  "Encoded media packets (one audio or video frame each) "
                                  "forwarded to subscribers by this process",
                                  value=ForwardingTrack.forwarded_total)

    def _chat(self) -> Iterator[Metric]:
        chat = self._services.chat
        yield CounterMetricFamily("counsel_chat_batches", "Transactions of the chat writer",
                                  value=chat.batches)
        yield CounterMetricFamily("counsel_chat_messages_stored", "Chat messages stored",
                                  value=chat.stored)

    def _captions(self) -> Iterator[Metric]:
        captions = self._services.captions
        yield GaugeMetricFamily("counsel_captions_ready",
                                "1 once the speech model is loaded (captions on)",
                                value=int(captions.state == "ready"))
        yield GaugeMetricFamily("counsel_caption_speakers", "Speakers being captioned",
                                value=len(captions.active))
        yield GaugeMetricFamily("counsel_asr_queued",
                                "Recognitions submitted and not finished (the ASR queue)",
                                value=captions.pending)

    def _translation(self) -> Iterator[Metric]:
        service = self._services.translations.service
        if service is None:
            return
        stats = service.stats()
        cache = CounterMetricFamily("counsel_translation_cache", "Translation cache lookups",
                                    labels=["result"])
        cache.add_metric(["hit"], stats.cache_hits)
        cache.add_metric(["miss"], stats.cache_misses)
        yield cache
        batches = CounterMetricFamily("counsel_translation_batches",
                                      "Batched engine calls per language pair",
                                      labels=["source", "target"])
        texts = CounterMetricFamily("counsel_translation_texts",
                                    "Texts translated by the engines per language pair",
                                    labels=["source", "target"])
        for (source, target), calls in sorted(stats.batch_calls.items()):
            batches.add_metric([source, target], calls)
            texts.add_metric([source, target], sum(stats.batch_sizes.get((source, target), ())))
        yield batches
        yield texts
        yield CounterMetricFamily("counsel_translation_skipped",
                                  "Partial captions not translated (the engine was busy)",
                                  value=stats.skipped)
        yield CounterMetricFamily("counsel_translation_failed", "Failed translations",
                                  value=stats.failed)
        yield GaugeMetricFamily("counsel_translation_queued", "Texts waiting for the engine",
                                value=service.queued)


def registry_for(services: Services) -> CollectorRegistry:
    """The app's registry; from now on the services' latencies are observed."""
    services.instruments.watch(services)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServicesCollector(services))
    return registry


def _may_scrape(request: Request, token: str | None) -> bool:
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return request.client is not None and request.client.host in LOOPBACK


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if not _may_scrape(request, token.get_secret_value() if token else None):
        raise Forbidden("metrics are for the operator's scraper")
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
