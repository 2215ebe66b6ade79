"""Where the alert archive keeps what: the ingester writes, the server and the copy tool read, and
the Pulumi program sets the canaries' expiry on the facility's bucket.

The layout is Rubin's alert database's (lsst-dm/alert_database_ingester and
alert_database_server, alertingest/storage.py and alertdb/storage.py, VERSION = "v2"): an alert at
v2/alerts/<first 6 digits of its diaSourceId>/<diaSourceId>.avro.gz (a prefix per id range
spreads the object store's load), a schema as its bare Avro JSON at v2/schemas/<id>.json, in a
bucket of its own or beside the alerts. What this archive wrote before is read too: the flat
v1/alerts/<id>.avro.gz and v1/schemas/<id>.json (the registry's answer), and, as Rubin's server
does, an uncompressed v2 .avro where no .gz exists.

The post-deploy suite's canaries (the canary topic's alerts) go to v2/canaries/, laid out as the
alerts are, so the production prefix holds only survey alerts and a facility may expire canaries.
"""

ALERTS_PREFIX = "v2/alerts/"
SCHEMAS_PREFIX = "v2/schemas/"
CANARIES_PREFIX = "v2/canaries/"
FLAT_PREFIX = "v1/"
# How long a facility keeps the canaries (the bucket's lifecycle rule, where the stack owns the bucket).
CANARY_DAYS = 7
