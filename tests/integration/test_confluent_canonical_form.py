"""Our schemas against what Confluent's registry would answer for them: Avro Java's canonical
string (AvroSchema#canonicalString, confluentinc/schema-registry), produced here by the real Avro
library Confluent Platform 7.9 ships (scripts/tools/avro/pom.xml). The local registry answers
with the text it was given, so only this test sees the facility's answer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from alertdist_common.registry_sync import sync_schemas
from alertdist_common.schemas import available_versions, same_schema, schema_json
from localfacility.settings import FacilitySettings

JAVA_PROGRAM = Path(__file__).parents[1] / "fixtures" / "AvroCanonical.java"


def confluent_answers(tmp_path: Path) -> dict[int, str]:
    """Schema id -> the schema text a Confluent registry serves for our schema of that id."""
    files = []
    for version in available_versions():
        path = tmp_path / f"{version.schema_id}.avsc"
        path.write_text(schema_json(version))
        files.append(path)
    classpath = f"{FacilitySettings().maven_libs_dir('avro')}/*"
    printed = subprocess.run(
        ["java", "-cp", classpath, str(JAVA_PROGRAM), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.splitlines()
    assert len(printed) == len(files)
    return {int(path.stem): line for path, line in zip(files, printed, strict=True)}


def test_confluent_answers_differ_from_our_text_but_are_the_same_schemas(tmp_path: Path) -> None:
    answers = confluent_answers(tmp_path)
    for version in available_versions():
        answer, ours = answers[version.schema_id], schema_json(version)
        assert json.loads(answer) != json.loads(ours), "the canonical form was expected to differ"
        assert same_schema(answer, ours), version


def test_the_sync_finds_nothing_to_do_on_a_registry_that_answers_in_canonical_form(tmp_path: Path) -> None:
    answers = confluent_answers(tmp_path)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            return httpx.Response(405)
        return httpx.Response(200, json={"schema": answers[int(request.url.path.rsplit("/", 1)[1])]})

    transport = httpx.MockTransport(handle)
    with httpx.Client(base_url="http://confluent", transport=transport) as http:
        report = sync_schemas(http)
    assert sorted(report.unchanged) == sorted(answers)
