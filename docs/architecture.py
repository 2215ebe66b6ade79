"""Draws docs/architecture.svg, the README's picture, from the project's own names: the parts'
app names (infra.naming), the alert topics and brokers of the idf stack (stacks/Pulumi.idf.yaml)
and each facility's object store. Run `uv run python docs/architecture.py`; a unit test fails
when the committed picture differs from what this draws."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from infra.naming import INGESTER_APP, PRODUCER_APP, REGISTRY_APP, SCHEMA_SYNC_APP, SERVER_APP
from infra.stackfile import load_stack

OUTPUT = Path(__file__).with_name("architecture.svg")
LINE = 16  # pixels a text line


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    title: str
    lines: tuple[str, ...] = ()
    fill: str = "#eef3fb"

    @property
    def height(self) -> int:
        return 14 + LINE * (1 + len(self.lines))

    def right(self) -> tuple[int, int]:
        return self.x + self.width, self.y + self.height // 2

    def left(self) -> tuple[int, int]:
        return self.x, self.y + self.height // 2

    def top(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y

    def bottom(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height

    def svg(self) -> str:
        texts = [
            f'<text x="{self.x + 8}" y="{self.y + LINE + 2}" font-weight="bold">{escape(self.title)}</text>'
        ]
        texts += [
            f'<text x="{self.x + 8}" y="{self.y + LINE * (i + 2) + 2}">{escape(line)}</text>'
            for i, line in enumerate(self.lines)
        ]
        rect = (
            f'<rect x="{self.x}" y="{self.y}" width="{self.width}" height="{self.height}" rx="6" '
            f'fill="{self.fill}" stroke="#34495e"/>'
        )
        return "\n".join([rect, *texts])


def arrow(start: tuple[int, int], end: tuple[int, int], label: str = "") -> str:
    (x1, y1), (x2, y2) = start, end
    line = f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#34495e" marker-end="url(#head)"/>'
    if not label:
        return line
    return (
        line
        + f'\n<text x="{(x1 + x2) // 2 + 4}" y="{(y1 + y2) // 2 - 4}" font-size="11">{escape(label)}</text>'
    )


def draw() -> str:
    """The whole picture as SVG text."""
    idf = load_stack("idf")
    usdf = load_stack("usdf")
    topics = tuple(topic.name for topic in idf.alert_topics)
    brokers = tuple(idf.brokers)
    downstream = tuple(b for b in usdf.brokers if b not in brokers)
    producer = Box(20, 60, 190, PRODUCER_APP, ("(prompt processing at USDF)", "Avro, Confluent framing"))
    kafka = Box(270, 40, 230, "Kafka (Strimzi)", (*topics, "SCRAM-SHA-512, ACLs per user"), "#fdf2e3")
    consumers = (*(f"{b}-<facility>" for b in brokers), *(f"{b}-usdf (downstream)" for b in downstream))
    broker_box = Box(580, 40, 250, "brokers: read-only users", consumers, "#e8f6ec")
    sync = Box(20, 200, 190, SCHEMA_SYNC_APP, ("every lsst-alert-packet schema",))
    registry = Box(270, 190, 190, REGISTRY_APP, ("id = MAJOR*100+MINOR", "public: GET /schemas"))
    ingester = Box(270, 320, 230, INGESTER_APP, ("commits after the write", "dead letters with a reason"))
    store = Box(20, 330, 190, "object store", ("GCS at idf, S3 at usdf", "v2/alerts/<id>.avro.gz"))
    server = Box(270, 440, 230, SERVER_APP, ("GET /v1/alerts/{id}", "POST /v1/bulk/alerts"))
    suite = Box(
        580, 420, 250, "post-deploy suite", ("canaries to every broker", "and into the archive"), "#f7e8f3"
    )
    boxes = [producer, kafka, broker_box, sync, registry, ingester, store, server, suite]
    kafka_bottom, registry_top = kafka.y + kafka.height, registry.y
    arrows = [
        arrow(producer.right(), kafka.left(), "write"),
        arrow(kafka.right(), broker_box.left(), "read"),
        arrow(sync.right(), registry.left()),
        arrow((registry.x + 95, registry_top), (registry.x + 95, kafka_bottom), "_schemas"),
        arrow((485, kafka_bottom), (485, ingester.y), "read"),
        arrow(ingester.left(), store.right(), "put"),
        arrow(store.bottom(), server.left(), "get"),
        arrow(server.right(), (640, broker_box.y + broker_box.height), "HTTP"),
        arrow(registry.right(), (broker_box.x, broker_box.y + broker_box.height - 24), "HTTP"),
    ]
    width, height = 850, server.y + server.height + 20
    body = "\n".join([*(box.svg() for box in boxes), *arrows])
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" \
font-family="DejaVu Sans, Arial, sans-serif" font-size="12">
<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">\
<path d="M0,0 L8,4 L0,8 z" fill="#34495e"/></marker></defs>
<rect width="{width}" height="{height}" fill="white"/>
<text x="20" y="24" font-size="14" font-weight="bold">Alert distribution at a data facility</text>
{body}
</svg>
"""


if __name__ == "__main__":
    OUTPUT.write_text(draw())
