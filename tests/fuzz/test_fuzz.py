"""The short, seeded fuzzing pass and kill -9 test CI runs (issue 17); `make fuzz` runs
10^5 cases and 1,000 kills. FUZZ_CASES, FUZZ_SEED and KILL_SAVES override the sizes."""
import os

import pytest

pytest.importorskip("resource")  # POSIX: the children run under RLIMIT_AS
import fuzzlib  # noqa: E402
import kill_saves  # noqa: E402


def test_seeded_fuzz_pass_finds_no_crash_hang_memory_error_or_silent_damage():
    summary = fuzzlib.campaign(int(os.environ.get("FUZZ_CASES", 3000)), int(os.environ.get("FUZZ_SEED", 1)))
    print(summary)
    assert summary["failures"] == [], f"{len(summary['failures'])} failing inputs kept in {summary['kept']}"
    assert summary["outcomes"].get("ok", 0) > 0 and summary["outcomes"].get("FormatError", 0) > 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_9_during_saves_loses_nothing_and_leaves_no_temp_files(tmp_path):
    summary = kill_saves.kill_campaign(int(os.environ.get("KILL_SAVES", 50)), folder=str(tmp_path))
    print(summary)
    assert summary["lost"] == 0 and summary["stale_after_next_save"] == 0, summary


def test_mutators_are_seeded(tmp_path):
    import random
    seeds = fuzzlib.make_seeds(str(tmp_path))
    a = [fuzzlib.make_case(random.Random(5), seeds, {})[2] for _ in range(3)]
    b = [fuzzlib.make_case(random.Random(5), seeds, {})[2] for _ in range(3)]
    assert a == b
