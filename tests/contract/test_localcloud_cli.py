"""`python -m localcloud`: first stdout line is the JSON the SDK needs; seeds are validated."""

import json
import os
import subprocess
import sys

from huaweicloudsdkvpc.v2 import ListPortsRequest

from tests.support.sdk import credentials_for, vpc_v2_client


class Handle:
    def __init__(self, info):
        self.__dict__.update(info)


def test_cli_serves_the_seed_it_is_given(tmp_path):
    seed = {
        "projects": [
            {
                "id": "0123456789abcdef0123456789abcdef",
                "credentials": [{"ak": "CLITESTAK000000", "sk": "cli-test-secret-000"}],
                "vpcs": [{"name": "v", "cidr": "10.1.0.0/16", "subnets": [{"name": "s", "cidr": "10.1.1.0/24"}]}],
                "ports": [{"subnet": "s", "device_owner": "compute:az1", "device_id": "x"}],
            }
        ]
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--port", "0", "--seed", str(path), "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        info = json.loads(process.stdout.readline())
        assert set(info) == {"url", "region", "project_id", "ak", "sk"}
        cloud = Handle(info)
        credentials = credentials_for(
            cloud, ak="CLITESTAK000000", sk="cli-test-secret-000", project_id="0123456789abcdef0123456789abcdef"
        )
        ports = vpc_v2_client(cloud, credentials).list_ports(ListPortsRequest()).ports
        assert [p.device_owner for p in ports] == ["compute:az1"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_refuses_an_invalid_seed(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"projects": [{"id": "not-hex"}]}))
    done = subprocess.run(
        [sys.executable, "-m", "localcloud", "--seed", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert done.returncode == 2
    assert "$.projects[0].id" in done.stderr
