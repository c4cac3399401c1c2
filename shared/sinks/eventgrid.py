"""The ``eventgrid`` sink: publish result events to an EventGrid (EG) custom channel, in batches.

``{"type": "eventgrid", "channel_id": "<channel id>", "source": "<custom event source name>"}``;
endpoint from ``EG_ENDPOINT`` (default ``https://eg.<REGION>.myhuaweicloud.com``).

``huaweicloudsdkeg.v1.EgClient.put_events(PutEventsRequest(channel_id, body=PutEventsReq(
events=[CloudEvents(...)])))`` -> ``POST /v1/{project_id}/channels/{channel_id}/events`` with
``{"events": [CloudEvent, ...]}``; the answer says per event what failed: ``{"failed_count",
"events": [{"event_id", "error_code", "error_msg"}]}``. Only those are sent again.

EG's limits (user guide, "Events"): 64 KB per event, 256 KB and 20 events per request;
``datacontenttype`` application/json only. ``source`` of a custom event must name a custom
event source of the channel: when ``source`` is configured it replaces the event's own
``source`` (``urn:sgguard:function:<function>``) in what EG receives; ``id`` stays, so
``type`` + ``id`` still identify the result. The SDK's ``CloudEvents`` model has no extension
attributes: any would not reach EG (result events carry none today).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from shared.sinks.base import Sink, config_str, sdk_client, sdk_error
from shared.sinks.exceptions import SinkError

if TYPE_CHECKING:
    from shared.clock import Deadline
    from shared.sinks.base import SinkRun

__all__ = ["EventGridSink"]

MAX_EVENT_BYTES = 64 * 1024
MAX_REQUEST_BYTES = 256 * 1024
MAX_EVENTS_PER_REQUEST = 20
_CHANNEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ATTRIBUTES = ("id", "source", "specversion", "type", "datacontenttype", "dataschema", "data", "time", "subject")
_TRANSIENT_EVENT_CODES = {"EG.00015000"}  # per-event "Internal Server Error"


class EventGridSink(Sink):
    kind = "eventgrid"
    max_batch_events = MAX_EVENTS_PER_REQUEST
    max_batch_bytes = MAX_REQUEST_BYTES - 1024  # room for {"events": [...]} and separators

    def __init__(self, name: str, config: dict[str, Any], run: SinkRun, deadline: Deadline) -> None:
        super().__init__(name, config, run, deadline)
        self.channel_id = config_str(self, "channel_id", max_len=128)
        if not _CHANNEL_ID.match(self.channel_id):
            raise self.config_error(
                f"RESULT_SINKS entry {name!r}: channel_id has characters a channel id never has", "RESULT_SINKS"
            )
        self.source = config_str(self, "source", required=False, max_len=256)
        self.endpoint = run.settings.eg_endpoint

    def check(self, event: dict[str, Any], size: int) -> SinkError | None:
        if size > MAX_EVENT_BYTES:
            return self.error(
                f"the event is {size} bytes; EventGrid takes at most 64 KB ({MAX_EVENT_BYTES} bytes) per event",
                code="EVENT_TOO_LARGE",
            )
        return None

    def _client(self) -> Any:
        def load() -> Any:
            from huaweicloudsdkeg.v1 import EgClient

            return EgClient

        return sdk_client(self, "eg", load, self.endpoint)

    def _model(self, event: dict[str, Any]) -> Any:
        from huaweicloudsdkeg.v1 import CloudEvents

        fields = {name: event[name] for name in _ATTRIBUTES if event.get(name) is not None}
        if self.source:
            fields["source"] = self.source
        return CloudEvents(**fields)

    def send(self, events: list[dict[str, Any]]) -> dict[int, SinkError] | None:
        client = self._client()
        from huaweicloudsdkeg.v1 import PutEventsReq, PutEventsRequest

        request = PutEventsRequest(
            channel_id=self.channel_id, body=PutEventsReq(events=[self._model(event) for event in events])
        )
        try:
            response = client.put_events(request)
        except Exception as error:  # noqa: BLE001 - classified below
            raise sdk_error(self, "eg put_events", error) from None
        failed_count = response.failed_count or 0
        if not failed_count:
            return None
        return self._failures(events, response, failed_count)

    def _failures(self, events: list[dict[str, Any]], response: Any, failed_count: int) -> dict[int, SinkError]:
        positions: dict[str, list[int]] = {}
        for position, event in enumerate(events):
            positions.setdefault(str(event.get("id")), []).append(position)
        failures: dict[int, SinkError] = {}
        confirmed: set[int] = set()
        for entry in response.events or []:
            named = positions.get(str(entry.event_id), [])
            if not entry.error_code:
                confirmed.update(named)
                continue
            for position in named:
                failures[position] = self.error(
                    f"eg put_events: event rejected: {entry.error_msg or ''}".rstrip(),
                    code=entry.error_code,
                    transient=entry.error_code in _TRANSIENT_EVENT_CODES,
                )
        if len(failures) < failed_count:
            # EG counted failures it did not name: send again whatever it did not confirm.
            for position in range(len(events)):
                if position not in failures and position not in confirmed:
                    failures[position] = self.error(
                        f"eg put_events: {failed_count} event(s) failed without saying which", transient=True
                    )
        return failures
