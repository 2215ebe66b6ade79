"""The stack outputs model: every stack's declared outputs fit it, secrets stay hidden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alertdist_common.outputs import StackOutputs
from infra.program import public_outputs
from infra.stackfile import load_stack, stack_names

BROKERS = {"alerce", "ampel", "antares", "babamul", "fink", "lasair", "pittgoogle"}


def _outputs(stack: str) -> StackOutputs:
    declared = public_outputs(load_stack(stack))
    return StackOutputs.model_validate({**declared, "passwords": {u: f"pw-{u}" for u in declared["users"]}})


@pytest.mark.parametrize("stack", stack_names())
def test_every_stacks_outputs_fit_the_model(stack: str) -> None:
    outputs = _outputs(stack)
    brokers = outputs.users_with_role("community-broker")
    assert {user.rsplit("-", 1)[0] for user in brokers} == set(load_stack(stack).brokers)
    assert set(load_stack(stack).brokers) >= BROKERS
    assert all(user.endswith(f"-{stack}") for user in brokers)
    owned = load_stack(stack).facility_owned
    assert bool(outputs.users_with_role("producer")) is not bool(owned and owned.producer)
    assert set(outputs.alert_topics) <= set(outputs.topics)
    assert outputs.topics_with_role("dead-letter")


def test_passwords_are_hidden_in_repr_and_read_on_request() -> None:
    outputs = _outputs("usdf")
    assert "pw-fink-usdf" not in repr(outputs)
    assert outputs.password("fink-usdf") == "pw-fink-usdf"
    with pytest.raises(KeyError, match="no password for 'nobody'"):
        outputs.password("nobody")


def test_an_unreadable_outputs_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read stack outputs"):
        StackOutputs.from_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read stack outputs"):
        StackOutputs.from_file(broken)


def test_outputs_round_trip_through_the_file_pulumi_prints(tmp_path: Path) -> None:
    outputs = _outputs("idf")
    saved = tmp_path / "idf.json"
    document = outputs.model_dump(by_alias=True, mode="json")
    document["passwords"] = {u: p.get_secret_value() for u, p in outputs.passwords.items()}
    saved.write_text(json.dumps(document))
    assert StackOutputs.from_file(saved) == outputs
