"""The public event catalogue (EVENTS.md, issue 9): schemas, personal-data scan, generated docs, compatibility.

Other bureaus subscribe to our events without asking us, so these tests hold the catalogue to its promises:
every schema is valid JSON Schema 2020-12 with an example that validates; every field the EVENTS.md table
lists is required; no schema or example carries personal data; the committed AsyncAPI and Markdown files are
what the generator makes, and the official AsyncAPI parser accepts them; and no released v1 type changes in a
way that would break a subscriber.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

from shared.events import CONTENT_TYPE, SCHEMA_DIR, catalogue, validate_data
from shared.events import asyncapi, compat

REPO = Path(__file__).resolve().parents[2]
EVENTS_MD = REPO.parent / "shared" / "design" / "EVENTS.md"
TOOLS = REPO / "tools" / "asyncapi"
SERVICES = {"disputes", "points", "relief", "jobmarket"}
CATALOGUE = catalogue()
TYPES = sorted(CATALOGUE)


# ------------------------------------------------------------------------------------------ helpers
def subschemas(schema: dict, path: str = "data"):
    """Yield ``(path, subschema)`` for the schema and every nested property and array item."""
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from subschemas(prop, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from subschemas(schema["items"], f"{path}[]")


def property_names(schema: dict):
    """Yield ``(path, name)`` of every property at every level."""
    for path, sub in subschemas(schema):
        for name in sub.get("properties", {}):
            yield f"{path}.{name}", name


def strings(value):
    """Every string (and number, as text) inside a JSON value, keys included."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield str(value)


def events_md_table(text: str) -> dict[str, tuple[str, set[str], dict[str, set[str]]]]:
    """Parse the "Catalogue v1" table: ``{type: (producer, top-level fields, {array field: item fields})}``.

    A cell reads like ``case_id, resolution_no (1, 2… per reopening), participants: [{person_id, role}]``:
    parenthesised notes are dropped, ``name: [{a, b}]`` names an array of objects with fields a and b.
    """
    section = text.split("## Catalogue v1", 1)[1]
    table = {}
    for line in section.splitlines():
        m = re.match(r"^\|\s*`([a-z0-9_.]+)`\s*\|\s*(\w+)\s*\|[^|]*\|(.*)\|\s*$", line)
        if not m:
            continue
        event_type, producer, cell = m.groups()
        cell = re.sub(r"\([^)]*\)", "", cell)
        nested = {name: {f.strip() for f in inner.split(",")}
                  for name, inner in re.findall(r"(\w+)\s*:\s*\[\{([^}]*)\}\]", cell)}
        cell = re.sub(r":\s*\[\{[^}]*\}\]", "", cell)
        fields = {f.strip() for f in cell.split(",") if f.strip()}
        table[event_type] = (producer, fields, nested)
    return table


# Personal data: property names, and values in examples.
PERSONAL_NAME = re.compile(r"name|phone|mobile|id_?card|address|contact|email|wechat|id_number|id_no$|birth")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
               "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
               "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
               "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
               "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
PLACE_SUFFIXES = set("市县区镇乡村街路巷苑园院庄城湾里坊楼栋号室组队站所局厅委会司校馆场店厂部处")
NAME_WITH_TITLE = re.compile(r"[\u4e00-\u9fff]{1,2}(先生|女士|小姐|师傅|大爷|阿姨)")


def personal_data_in(text: str) -> str | None:
    """Why ``text`` looks like personal data (a Chinese personal name, a mobile or ID-card number), or None."""
    if PHONE.search(text):
        return "mobile phone number"
    if ID_NUMBER.search(text):
        return "18-digit ID-card number"
    if NAME_WITH_TITLE.search(text):
        return "name with a title"
    if re.fullmatch(r"[\u4e00-\u9fff]{2,3}", text) and text[0] in SURNAMES and text[-1] not in PLACE_SUFFIXES:
        return "Chinese personal name"
    return None


# ------------------------------------------------------------------------------------------ schemas
def test_catalogue_lists_schema_files():
    assert len(TYPES) == len(list(SCHEMA_DIR.glob("*.json"))) >= 27
    for event_type in TYPES:
        assert re.fullmatch(r"(disputes|points|relief|jobmarket)(\.[a-z_]+){1,2}\.v\d+", event_type), event_type


@pytest.mark.parametrize("event_type", TYPES)
def test_schema_is_valid_2020_12_and_examples_validate(event_type):
    schema = CATALOGUE[event_type]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["title"] == event_type
    assert schema["x-producer"] == event_type.split(".")[0] and schema["x-producer"] in SERVICES
    assert len(schema["description"]) > 40, "say when the event is published"
    assert schema["examples"], "one realistic example"
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for example in schema["examples"]:
        assert not list(validator.iter_errors(example))
        validate_data(event_type, example)                   # producer side: strict
        validate_data(event_type, example, strict=False)     # consumer side: tolerant
        assert set(example) == set(schema["properties"]), "the example shows every field"
    template = schema.get("x-subject", "")
    assert template.format(**schema["examples"][0]), "x-subject names the entity, from the data's fields"


@pytest.mark.parametrize("event_type", TYPES)
def test_every_object_is_closed_and_every_field_described(event_type):
    for path, sub in subschemas(CATALOGUE[event_type]):
        if sub.get("type") == "object" or "properties" in sub:
            assert sub.get("additionalProperties") is False, f"{path}: additionalProperties must be false"
            assert set(sub.get("required", [])) <= set(sub["properties"]), f"{path}: requires an unknown field"
        if path != "data":
            assert sub.get("description") or path.endswith("[]"), f"{path}: no description"


@pytest.mark.parametrize("event_type", TYPES)
def test_field_conventions(event_type):
    """Money as yuan strings, points as integers, hours as decimal strings, times and days formatted."""
    for path, name in property_names(CATALOGUE[event_type]):
        prop = next(s for p, s in subschemas(CATALOGUE[event_type]) if p == path)
        types = prop["type"] if isinstance(prop.get("type"), list) else [prop.get("type")]
        if re.search(r"amount|wage|price|subsidy", name) and not name.startswith("points"):
            assert prop.get("pattern") == r"^-?\d+\.\d{2}$" and "string" in types, f"{path}: money is a yuan string"
        if name == "points" or name.startswith("points_") or name.endswith("_points"):
            assert types == ["integer"], f"{path}: points are integers"
        if name == "hours":
            assert types == ["string"] and "pattern" in prop, f"{path}: hours are decimal strings"
        if name.endswith("_at"):
            assert prop.get("format") == "date-time", f"{path}: a time is format date-time"
        if name.endswith("_on"):
            assert prop.get("format") == "date", f"{path}: a day is format date"
        if "person" in name:
            assert re.fullmatch(r"(\w+_)?person_ids?", name), f"{path}: person references are person_id / *_person_id"


def test_date_times_require_an_offset():
    """jsonschema checks format date-time only with an optional package; the offset pattern does it always."""
    schema = CATALOGUE["disputes.case.received.v1"]
    bad = dict(schema["examples"][0], reported_at="2024-01-01T10:00:00")
    with pytest.raises(ValueError):
        validate_data("disputes.case.received.v1", bad)


# ------------------------------------------------------------------------------------------ EVENTS.md
@pytest.fixture(scope="module")
def events_table():
    if not EVENTS_MD.exists():
        pytest.skip(f"{EVENTS_MD} is absent (the team kit sits beside the repository)")
    table = events_md_table(EVENTS_MD.read_text(encoding="utf-8"))
    assert len(table) >= 16, "the EVENTS.md catalogue table could not be parsed"
    return table


def test_events_md_table_parser():
    row = ("| `disputes.case.resolved.v1` | disputes | a case is resolved | case_id, resolution_no (1, 2… per "
           "reopening), grade, participants: [{person_id, role}] |")
    table = events_md_table("## Catalogue v1\n\n| type | from | when | data |\n|---|---|---|---|\n" + row)
    assert table == {"disputes.case.resolved.v1": (
        "disputes", {"case_id", "resolution_no", "grade", "participants"}, {"participants": {"person_id", "role"}})}


def test_every_events_md_type_has_a_schema(events_table):
    missing = sorted(set(events_table) - set(CATALOGUE))
    assert not missing, f"EVENTS.md types without a schema: {missing}"


def test_every_events_md_field_is_required(events_table):
    problems = []
    for event_type, (producer, fields, nested) in sorted(events_table.items()):
        schema = CATALOGUE[event_type]
        if schema["x-producer"] != producer:
            problems.append(f"{event_type}: producer {schema['x-producer']} != {producer}")
        problems += [f"{event_type}: {f} not required" for f in sorted(fields - set(schema["required"]))]
        for array, item_fields in nested.items():
            items = schema["properties"][array]["items"]
            problems += [f"{event_type}: {array}[].{f} not required" for f in sorted(item_fields - set(items["required"]))]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ personal data
def test_personal_data_scanner_catches_what_it_should():
    for text in ["王刚娜", "毛丽", "王先生", "联系人张师傅", "16875176771", "电话16875176771",
                 "140821198101088295", "14088119940828534X"]:
        assert personal_data_in(text), text
    for text in ["汾河新村", "安康小区", "万荣县", "临猗县", "河津市", "P000001", "W-0023", "YC2023-000001",
                 "2024-06-14T21:30:18+08:00", "0193a5c2-7f1e-7b3a-9c1d-5e2f8a4b6c7d", "753500.00", "TISSUE-1"]:
        assert personal_data_in(text) is None, text
    for name in ["name", "donor_name", "phone", "mobile_no", "id_card", "idcard_no", "address", "contact", "id_number"]:
        assert PERSONAL_NAME.search(name), name


@pytest.mark.parametrize("event_type", TYPES)
def test_no_personal_data(event_type):
    schema = CATALOGUE[event_type]
    for path, name in property_names(schema):
        if name == "person_id" or name.endswith("_person_id") or name.endswith("_person_ids"):
            continue
        assert not PERSONAL_NAME.search(name), f"{path}: looks like personal data"
    for example in schema["examples"]:
        for text in strings(example):
            assert personal_data_in(text) is None, f"{event_type} example: {text!r} is {personal_data_in(text)}"


# ------------------------------------------------------------------------------------------ generated documents
def test_committed_asyncapi_and_markdown_are_up_to_date():
    assert asyncapi.main(["--check"]) == 0, "run: python -m shared.events.asyncapi"


def test_check_detects_a_stale_file(tmp_path, monkeypatch):
    monkeypatch.setattr(asyncapi, "OUT_DIR", tmp_path)
    monkeypatch.setattr(asyncapi, "REPO", tmp_path)
    assert asyncapi.main([]) == 0 and asyncapi.main(["--check"]) == 0
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert asyncapi.main(["--check"]) == 1


def test_asyncapi_document_describes_the_topology_and_every_type():
    doc = yaml.safe_load((asyncapi.OUT_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert doc["asyncapi"] == "3.0.0" and doc["servers"]["rabbitmq"]["protocol"] == "amqp"
    components = doc["components"]
    exchange = components["channelBindings"]["weizhiliEvents"]["amqp"]["exchange"]
    assert exchange == {"name": "weizhili.events", "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
    assert components["operationBindings"]["persistentPublish"]["amqp"]["deliveryMode"] == 2
    assert set(doc["channels"]) == set(TYPES)
    envelope_validator = Draft7Validator(components["schemas"]["CloudEvent"], format_checker=FormatChecker())
    for event_type in TYPES:
        assert doc["channels"][event_type]["address"] == event_type
        message = components["messages"][event_type]
        assert message["contentType"] == CONTENT_TYPE
        for example in message["examples"]:
            body = example["payload"]
            assert not list(envelope_validator.iter_errors(body))
            assert body["type"] == event_type and body["source"] == f"/weizhili/{CATALOGUE[event_type]['x-producer']}"
            validate_data(event_type, body["data"])


def test_cloudevents_sdk_reads_every_example_message():
    rabbitmq = pytest.importorskip("cloudevents.core.bindings.rabbitmq")
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    for event_type, schema in CATALOGUE.items():
        body = json.dumps(asyncapi.example_envelope(event_type, schema), ensure_ascii=False).encode("utf-8")
        message = rabbitmq.RabbitMQMessage(headers={}, content_type=CONTENT_TYPE, body=body)
        event = rabbitmq.from_rabbitmq(message, JSONFormat(), CloudEvent)
        assert event.get_type() == event_type and event.get_data() == schema["examples"][0]


def test_official_asyncapi_parser_accepts_the_document():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node:
        pytest.skip("node is not installed: the official AsyncAPI parser (tools/asyncapi) cannot run")
    if not (TOOLS / "node_modules" / "@asyncapi" / "parser").exists():
        assert npm, "node is installed but npm is not: cannot install tools/asyncapi"
        run = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TOOLS, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run([node, "validate.mjs", str(asyncapi.OUT_DIR / "asyncapi.yaml")], cwd=TOOLS,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


# ------------------------------------------------------------------------------------------ compatibility
def test_every_type_is_released_in_its_baseline():
    missing = [t for t in TYPES if not (compat.baseline_dir(t) / f"{t}.json").exists()]
    assert not missing, f"unreleased types {missing}: run python -m shared.events.compat --freeze"


def test_no_released_type_breaks_its_subscribers():
    problems = compat.check_catalogue(compat.all_baseline_dirs())
    assert not problems, "\n".join(problems) + "\nbreaking changes need a new type (.v2)"


def _released(event_type: str) -> dict:
    return json.loads((compat.baseline_dir(event_type) / f"{event_type}.json").read_text(encoding="utf-8"))


def _remove_field(s):
    del s["properties"]["estate"]


def _retype_field(s):
    s["properties"]["resolution_no"]["type"] = "string"


def _require_new_field(s):
    s["properties"]["heard_by"] = {"type": "string"}
    s["required"].append("heard_by")


def _require_optional_field(s):
    s["required"].append("subcategory")


def _unrequire_field(s):
    s["required"].remove("grade")


def _narrow_enum(s):
    s["properties"]["category"]["enum"].remove("external")


def _nested_removal(s):
    del s["properties"]["participants"]["items"]["properties"]["role"]


def _change_format(s):
    s["properties"]["resolved_at"]["format"] = "date"


def _tighten_bound(s):
    s["properties"]["resolution_no"]["minimum"] = 2


BREAKING = [(_remove_field, "data.estate: property removed"),
            (_retype_field, "data.resolution_no: type changed"),
            (_require_new_field, "data.heard_by: newly required"),
            (_require_optional_field, "data.subcategory: newly required"),
            (_unrequire_field, "data.grade: no longer required"),
            (_narrow_enum, "data.category: enum values removed"),
            (_nested_removal, "data.participants[].role: property removed"),
            (_change_format, "data.resolved_at: format changed"),
            (_tighten_bound, "data.resolution_no: minimum changed")]


@pytest.mark.parametrize("mutate, expected", BREAKING, ids=[m.__name__.strip("_") for m, _ in BREAKING])
def test_guard_catches_breaking_change(mutate, expected):
    old = _released("disputes.case.resolved.v1")
    new = copy.deepcopy(old)
    mutate(new)
    problems = compat.breaking_changes(old, new)
    assert any(p.startswith(expected) for p in problems), problems


def test_guard_allows_additive_changes():
    old = _released("disputes.case.resolved.v1")
    new = copy.deepcopy(old)
    new["properties"]["heard_at_session_ids"] = {"type": "array", "items": {"type": "string"}}
    new["properties"]["participants"]["items"]["properties"]["team_id"] = {"type": ["string", "null"]}
    new["properties"]["category"]["enum"].append("public_order")
    new["description"] += " Clarified."
    new["examples"] = []
    assert compat.breaking_changes(old, new) == []


def test_guard_catches_a_removed_type(tmp_path):
    baseline, current = tmp_path / "v1-baseline", tmp_path / "schemas"
    baseline.mkdir()
    current.mkdir()
    for name in ("points.credited.v1.json", "points.redeemed.v1.json"):
        shutil.copyfile(SCHEMA_DIR / name, baseline / name)
    shutil.copyfile(SCHEMA_DIR / "points.credited.v1.json", current / "points.credited.v1.json")
    assert compat.check_catalogue([baseline], current) == ["points.redeemed.v1: type removed (its schema file is gone)"]
