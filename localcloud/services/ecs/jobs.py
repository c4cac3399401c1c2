"""Job records of the ECS emulation (mixed into ``EcsModel``).

A request that creates or deletes servers records one batch job (``createServer`` /
``deleteServers``: ``{job_id, job_type, begin_time, end_time, status, error_code, fail_reason,
sub_jobs}``) with one sub-job per server (``createSingleServer`` / ``deleteServer``, with its
``server_id``), as ``GET /v1/{project_id}/jobs/{job_id}`` shows them (:func:`.views.job_view`).
A batch job's status follows its sub-jobs: ``INIT`` while no server's networking is built, then
``RUNNING``, then ``SUCCESS``, or ``FAIL`` with the first failed sub-job's ``error_code`` and
``fail_reason``.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["JobsMixin"]


class JobsMixin:
    """Needs ``self.jobs`` (job id -> batch job record) and ``self.servers`` (set up by ``EcsModel``)."""

    jobs: dict[str, dict[str, Any]]
    servers: dict[str, dict[str, Any]]

    def _new_job(self, job_type: str, now: float) -> dict[str, Any]:
        job: dict[str, Any] = {
            "job_id": uuid.uuid4().hex,
            "job_type": job_type,
            "begin_time": now,
            "end_time": None,
            "status": "INIT",
            "error_code": None,
            "fail_reason": None,
            "sub_jobs": [],
        }
        self.jobs[job["job_id"]] = job
        return job

    @staticmethod
    def _new_sub_job(job: dict[str, Any], job_type: str, server_id: str, now: float) -> dict[str, Any]:
        sub_job: dict[str, Any] = {
            "job_id": uuid.uuid4().hex,
            "job_type": job_type,
            "status": "INIT",
            "begin_time": now,
            "end_time": None,
            "error_code": None,
            "fail_reason": None,
            "server_id": server_id,
        }
        job["sub_jobs"].append(sub_job)
        return sub_job

    def _finish_sub_job(
        self, server: dict[str, Any], status: str, now: float, code: str | None = None, reason: str | None = None
    ) -> dict[str, Any] | None:
        job = self.jobs.get(server.get("job_id") or "")
        if job is None:
            return None
        for sub_job in job["sub_jobs"]:
            if sub_job["job_id"] == server["sub_job_id"]:
                sub_job.update(status=status, end_time=now, error_code=code, fail_reason=reason)
                self._refresh_job(job)
                return sub_job
        return None

    def _refresh_job(self, job: dict[str, Any] | None) -> None:
        """A batch job's status follows its sub-jobs; INIT until the networking is built."""
        if job is None:
            return
        if job["job_type"] == "createServer":
            for sub_job in job["sub_jobs"]:
                if sub_job["status"] in ("INIT", "RUNNING"):
                    server = self.servers.get(sub_job["server_id"])
                    built = bool(server and server["ports_built"])
                    sub_job["status"] = "RUNNING" if built else "INIT"
        statuses = [sub_job["status"] for sub_job in job["sub_jobs"]]
        if any(status in ("INIT", "RUNNING") for status in statuses):
            job["status"] = "RUNNING" if any(status != "INIT" for status in statuses) else "INIT"
            job["end_time"] = None
            return
        failed = [sub_job for sub_job in job["sub_jobs"] if sub_job["status"] == "FAIL"]
        job["status"] = "FAIL" if failed else "SUCCESS"
        job["error_code"] = failed[0]["error_code"] if failed else None
        job["fail_reason"] = failed[0]["fail_reason"] if failed else None
        job["end_time"] = (
            max((sub_job["end_time"] or job["begin_time"]) for sub_job in job["sub_jobs"])
            if job["sub_jobs"]
            else job["begin_time"]
        )
