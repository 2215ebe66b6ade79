"""The registry text of each alert schema is the same in every process."""

from __future__ import annotations

import json
import subprocess
import sys

from alertdist_common.schemas import available_versions, schema_json

PRINT_ALL = (
    "import json; from alertdist_common.schemas import available_versions, schema_json; "
    "print(json.dumps({v.schema_id: schema_json(v) for v in available_versions()}))"
)


def registry_texts(before: str) -> dict[str, str]:
    """Every version's text, from a fresh process that first runs `before`."""
    done = subprocess.run(
        [sys.executable, "-c", f"{before}; {PRINT_ALL}"], capture_output=True, text=True, check=True
    )
    texts: dict[str, str] = json.loads(done.stdout)
    return texts


def test_the_text_does_not_depend_on_what_the_process_parsed_before() -> None:
    plain = registry_texts("pass")
    after_the_producer = registry_texts(
        "from services.producer.alerts import AlertFactory; AlertFactory.from_package()"
    )
    assert plain == after_the_producer
    assert plain == {str(v.schema_id): schema_json(v) for v in available_versions()}
