"""Intra-op threads: turns share the cores (no oversubscription), a batch job takes them all."""

import torch
from threadpoolctl import threadpool_info

from assistant.config import Settings
from retrieval.models import all_cores, configure_threads, inference_threads


def test_the_cores_are_shared_among_the_turns_computed_at_once(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert Settings(serve_concurrency=2).threads_for_inference() == 4
    assert Settings(serve_concurrency=16).threads_for_inference() == 1
    assert Settings(serve_concurrency=2, inference_threads=3).threads_for_inference() == 3


def test_a_batch_job_runs_on_every_core_and_gives_them_back():
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
        assert inference_threads() == 1
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and set(blas) == {1}  # numpy's scans too, not only torch
        seen = []
        all_cores(lambda: seen.append(torch.get_num_threads()))()
        assert seen[0] >= 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_an_assistant_sets_its_turns_threads(tiny_catalog, tiny_config):
    from assistant.pipeline import Assistant
    from retrieval.ingest import ingest

    before = torch.get_num_threads()
    try:
        ingest(tiny_catalog, tiny_config, progress=False)
        settings = Settings(**tiny_config.model_dump(), inference_threads=1)
        Assistant(settings, use_llm=False)
        assert torch.get_num_threads() == 1 and inference_threads() == 1
    finally:
        torch.set_num_threads(before)
