"""``sgguard capture``: saved events and CTS traces (ListTraces against localcloud) into a fixture
whose every value is a placeholder or vocabulary; exit codes 0 / 1 / 2 / 3."""

from __future__ import annotations

import json

from sgguard_cli.main import main as sgguard
from tests.support.events import EVENTS_DIR, load_event
from tests.unit.test_shapes import HOSTILE, SECRETS

ALICE = "alice.liddell@example.com"


def run(argv: list[str], environ: dict | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    return sgguard(["capture", *argv], environ or {}, out=lines.append), lines


def test_a_directory_of_saved_events(tmp_path):
    saved = tmp_path / f"{ALICE}-prod-db"  # a file or folder name can be a person's or a server's
    saved.mkdir()
    (saved / "cts.json").write_text(json.dumps(load_event("ecs_created", "cts")))
    (saved / "again.json").write_text(json.dumps(load_event("ecs_created", "cts")))
    (saved / "hostile.json").write_text(json.dumps(HOSTILE))
    (saved / "kafka.jsonl").write_text(json.dumps(load_event("change_request", "kafka")) + "\n\n{broken\n")
    (saved / "notes.txt").write_text("ignored: not .json")
    code, lines = run([str(saved)])
    document = json.loads("\n".join(lines))
    assert code == 0 and document["format"] == "sgguard-shapes/1"
    assert [(s["kind"], s["count"]) for s in document["shapes"]] == [("cts", 2), ("cts", 1), ("kafka", 1)]
    assert document["skipped"] == [{"source": "event", "reason": "not JSON"}]
    text = json.dumps(document)
    for secret in [*SECRETS, ALICE, "prod-db", "CHG0031337", "6f1b3c0e", "alice"]:
        assert secret not in text, secret


def test_out_file_and_summary(tmp_path, capsys):
    out = tmp_path / "shapes.json"
    code, lines = run([str(EVENTS_DIR / "change_request"), "--out", str(out)])
    document = json.loads(out.read_text())
    assert code == 0 and lines == [] and {s["kind"] for s in document["shapes"]} >= {"kafka", "smn", "apig"}
    assert "shape(s) from" in capsys.readouterr().err


def test_nothing_captured_is_exit_1(tmp_path):
    (tmp_path / "bad.json").write_text("not json")
    code, lines = run([str(tmp_path)])
    assert code == 1 and json.loads("\n".join(lines))["shapes"] == []


def test_usage_errors_are_exit_2(tmp_path, capsys):
    assert run([str(tmp_path / "missing")])[0] == 2
    assert "no such file" in capsys.readouterr().err
    assert run([])[0] == 2


def test_traces_from_cts_list_traces(cloud):
    trace = dict(HOSTILE["cts"], time=cloud_now_ms())
    cloud.cts_traces([trace])
    since = cloud.last_seq()
    environ = {
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
    }
    code, lines = run(["--traces", "--service-type", "ECS", "--endpoint", cloud.url], environ)
    document = json.loads("\n".join(lines))
    assert code == 0
    [entry] = document["shapes"]
    assert (entry["source"], entry["kind"]) == ("cts_trace", "cts")
    assert entry["shape"]["user"]["principal_urn"] == "<urn:sts::*:assumed-agency:*/*>"
    text = json.dumps(document)
    assert not any(secret in text for secret in SECRETS)
    requests = cloud.requests(since)
    assert requests and all(r["method"] == "GET" and r["path"].endswith("/traces") for r in requests)
    assert all("trace_type=system" in r["query"] for r in requests)


def test_traces_are_paged_by_marker_up_to_the_limit(cloud):
    now = cloud_now_ms()
    cloud.cts_traces(
        [
            {"trace_id": f"t{n}", "service_type": "ECS", "trace_name": "createServer", "time": now - n}
            for n in range(250)
        ]
    )
    since = cloud.last_seq()
    environ = {
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
    }
    code, lines = run(["--traces", "--service-type", "ECS", "--limit", "220", "--endpoint", cloud.url], environ)
    shapes = json.loads("\n".join(lines))["shapes"]
    assert code == 0 and sum(entry["count"] for entry in shapes) == 220  # ids t0..t219: lengths 2, 3, 4
    assert {entry["shape"]["trace_id"] for entry in shapes} == {"<str:len=2>", "<str:len=3>", "<str:len=4>"}
    pages = [r for r in cloud.requests(since) if r["path"].endswith("/traces")]
    assert len(pages) == 2 and "limit=200" in pages[0]["query"] and "limit=20" in pages[1]["query"]
    assert "next=" in pages[1]["query"]


def test_traces_without_credentials_is_exit_3(cloud):
    assert run(["--traces", "--endpoint", cloud.url])[0] == 3


def test_a_cloud_error_is_exit_3(cloud):
    cloud.add_fault(kind="deny", method="GET", path="/v3/*/traces", action="cts:trace:list")
    environ = {
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
    }
    assert run(["--traces", "--endpoint", cloud.url], environ)[0] == 3


def cloud_now_ms() -> int:
    import time

    return int(time.time() * 1000) - 1000
