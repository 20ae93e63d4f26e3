"""Hostile input: each case runs in a child process under CPU and address-space limits.

A case is a function here, named in ``CASES``; the child imports this module,
runs it and prints its JSON result, so a case that hangs or explodes fails
its own test (killed by ``RLIMIT_CPU`` or ``RLIMIT_AS``) and nothing else.
The assertions are on what came out: dead letters with reasons, items
without markup, flags that survived. Timings are in benchmarks/hostile_bench.py.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CPU_SECONDS = 20
MEMORY_BYTES = 1536 * 1024 * 1024

RU_FLAGGED = (
    "Прокуратура расследует военные преступления в Буче: задокументированы расстрелы"
    " мирных жителей."
)
EN_FLAGGED = "Investigators documented {} committed against civilians, the prosecutor said."


def rss(
    items: str, head: str = "", channel: str = "<title>Hostile</title><language>en</language>"
) -> bytes:
    return f'{head}<rss version="2.0"><channel>{channel}{items}</channel></rss>'.encode()


def item(guid: str, title: str, text: str, link: str = "") -> str:
    link_el = f"<link>{link}</link>" if link else ""
    return (
        f"<item><guid>{guid}</guid>{link_el}<title>{title}</title>"
        f"<description>{text}</description></item>"
    )


def summary(outcome) -> dict:
    return {
        "status": outcome.status,
        "items": len(outcome.items),
        "titles": [i.title for i in outcome.items],
        "texts": [i.text for i in outcome.items],
        "urls": [i.url for i in outcome.items],
        "reasons": [d.reason for d in outcome.dead_letters],
        "stages": [d.stage for d in outcome.dead_letters],
        "warnings": list(outcome.warnings),
    }


def flag_all(outcome) -> dict:
    from transforms.normalise import normalise_item
    from transforms.rules import RuleEngine

    engine = RuleEngine.load()
    flagged, spans_ok, clean = [], True, []
    for raw in outcome.items:
        it = normalise_item(raw)
        clean.append(it.text)
        result = engine.evaluate({"title": it.title, "text": it.text}, raw.language_hint)
        fields = {"title": it.title, "text": it.text}
        spans_ok &= all(
            fields[t.field][t.start : t.end] == t.text for f in result.flags for t in f.terms
        )
        if result.flags:
            flagged.append(it.guid)
    ids = [normalise_item(i).id for i in outcome.items]
    return {"flagged": flagged, "spans_ok": spans_ok, "ids": ids, "clean_texts": clean}


# ---------------------------------------------------------------- the cases


def case_billion_laughs() -> dict:
    from connectors.feeds import parse_feed

    lol = '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    lol += "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>"
    body = item("1", "&lol9;", "laughs &lol9;&lol9;")
    out = {}
    for name, data in {
        "prolog": rss(body, head=lol),
        "in_body": rss(lol + body),
        "malformed": rss(body, head=lol)[:-10],  # forces feedparser's loose parser
    }.items():
        out[name] = summary(parse_feed(name, data))
    return out


def case_quadratic_entity() -> dict:
    from connectors.feeds import parse_feed

    head = '<!DOCTYPE rss [<!ENTITY a "' + "x" * 1000 + '">]>'
    data = rss(item("1", "t", "&a;" * 30000), head=head)
    return {"size": len(data), **summary(parse_feed("q.xml", data))}


def case_external_entities() -> dict:
    from connectors.feeds import parse_feed

    base = os.environ["HOSTILE_BASE"]
    cases = {
        "file": '<!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        "http": f'<!DOCTYPE rss [<!ENTITY e SYSTEM "{base}/entity">]>',
        "dtd": f'<!DOCTYPE rss SYSTEM "{base}/feed.dtd">',
        "parameter": f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{base}/param"> %p;]>',
        "public": f'<!DOCTYPE rss PUBLIC "-//X//Y" "{base}/public.dtd">',
    }
    return {
        name: summary(parse_feed(name, rss(item("1", "t", "before &e; after"), head=head)))
        for name, head in cases.items()
    }


def case_nested_elements() -> dict:
    from connectors.feeds import parse_feed
    from transforms.normalise import html_to_text

    deep_xml = rss(
        f"<item><guid>1</guid><title>deep</title>{'<x>' * 100000}{'</x>' * 100000}</item>"
    )
    deep_html = rss(item("2", "deep", "<b>" * 100000 + "text" + "</b>" * 100000))
    unclosed = rss(item("3", "open", "t")).replace(b"</channel></rss>", b"<x>" * 100000)
    out = {}
    for name, data in {"xml": deep_xml, "html": deep_html, "unclosed": unclosed}.items():
        result = summary(parse_feed(name, data))
        result["texts"] = [html_to_text(t) for t in result["texts"]]
        out[name] = result
    return out


def case_long_lines() -> dict:
    from connectors.feeds import parse_feed

    line = rss(item("1", "long", "war crimes " * 1_400_000))  # 15 MB on one line
    huge = b"<rss><channel><item><description>" + b"a" * (100 * 1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = compressor.compress(b"<rss>") + b"".join(
        compressor.compress(b"\0" * (1 << 20)) for _ in range(200)
    )
    bomb += compressor.flush()
    return {
        "line": {**summary(parse_feed("line.xml", line)), "texts": None},
        "line_length": len(parse_feed("line.xml", line).items[0].text),
        "huge": summary(parse_feed("huge.xml", huge)),
        "bomb": summary(parse_feed("bomb.xml", bomb)),
        "bomb_size": len(bomb),
        "gzip": summary(parse_feed("feed.bin", gzip.compress(rss(item("1", "zipped", "ok"))))),
    }


def case_encodings() -> dict:
    from connectors.feeds import parse_feed

    doc = (
        '<?xml version="1.0" encoding="utf-8"?>'
        + rss(item("1", "Война", EN_FLAGGED.format("war\ufeffcrimes"))).decode()
    )
    ru_items = "".join(item(str(i), f"Новость {i}", RU_FLAGGED) for i in range(20))
    ru = (
        '<?xml version="1.0" encoding="utf-8"?>'
        + rss(ru_items, channel="<title>Лента</title><language>ru</language>").decode()
    ).encode()
    middle = ru.index("Новость 10".encode())
    ru_bad = ru[:middle] + b"\xff" + ru[middle:]
    cases = {
        "double_utf8_bom": b"\xef\xbb\xbf\xef\xbb\xbf" + doc.encode(),
        "utf8_bom_then_utf16_bom": b"\xef\xbb\xbf" + b"\xff\xfe" + doc.encode(),
        "utf16_bom_declared_utf8": b"\xff\xfe" + doc.encode("utf-16-le"),
        "utf16le_no_bom_declared_utf8": doc.encode("utf-16-le"),
        "utf16be_no_bom_declared_utf8": doc.encode("utf-16-be"),
        "ru_one_bad_byte": ru_bad,
    }
    out = {
        name: {**summary(o := parse_feed(name, data)), **flag_all(o)}
        for name, data in cases.items()
    }
    out["random_1mb"] = summary(parse_feed("r.xml", os.urandom(1 << 20)))
    return out


def case_markup_tricks() -> dict:
    from connectors.feeds import parse_feed
    from transforms.normalise import html_to_text, normalise_item

    tricks = [
        "<script>alert(1)</script>safe",
        "<SCRIPT type='x'>alert(1)</SCRIPT >safe",
        "<style>p{color:red}</style>safe",
        "<iframe src='javascript:alert(1)'>alert(1)</iframe>safe",
        "<scr<script>ipt>alert(1)</script>safe",
        "<scr<b></b>ipt>alert(1)</scr<b></b>ipt>safe",
        "&lt;script&gt;alert(1)&lt;/script&gt;safe",
        "&amp;lt;b&amp;gt;safe",
        "<img src=x onerror=alert(1)>safe",
        "<script>alert(1)",
        "safe<script",
        "<svg><script>alert(1)</script></svg>safe",
        "<!--<script>-->safe",
        "<noscript><p>alert(1)</p></noscript>safe",
        "<\u00adscript>alert(1)</\u00adscript>safe",
        "legacy</>safe",
        "<<script>a>alert(1)</script>safe",
    ]
    texts = [html_to_text(t) for t in tricks]
    escaped = "".join(
        item(str(i), "t", t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        for i, t in enumerate(tricks)
    )
    links = (
        item("js", "js link", "x", link="javascript:alert(1)")
        + item("vb", "vb link", "x", link=" VBScript:msgbox(1)")
        + item("data", "data link", "x", link="data:text/html;base64,PHNjcmlwdD4=")
    )
    outcome = parse_feed("tricks.xml", rss(escaped + links))
    items = [normalise_item(i) for i in outcome.items]
    timed = {
        "script_160k": len(html_to_text("<script " * 20000)),
        "tag_160k": len(html_to_text("<a " * 55000)),
        "comment_160k": len(html_to_text("<!--" * 40000)),
    }
    return {
        "texts": texts,
        "feed_texts": [i.text for i in items],
        "links": {i.guid: [i.url, i.canonical_url, list(i.unsafe_urls)] for i in items},
        "timed": timed,
    }


def case_json_feeds() -> dict:
    from connectors.feeds import parse_feed

    version = "https://jsonfeed.org/version/1.1"
    wrong = [
        {
            "version": version,
            "title": 5,
            "items": [{"id": 1, "url": 3, "title": ["x"], "content_html": {"a": 1}}],
        },
        {"version": version, "items": [{"id": None, "url": None, "title": 7, "content_text": 9}]},
        {
            "version": version,
            "items": [{"id": "a", "authors": "me", "author": 5, "date_published": 12}],
        },
        {
            "version": version,
            "items": [
                {"id": "b", "authors": [None, 3], "tags": {"a": 1}, "language": 4, "title": "ok"}
            ],
        },
        {"version": version, "items": [1, "two", None, [3], {"id": "c", "title": "kept"}]},
        {
            "version": version,
            "home_page_url": ["x"],
            "feed_url": 9,
            "items": [{"id": "d", "url": "javascript:alert(1)", "title": "js"}],
        },
        {"version": 1.1, "items": []},
        {"version": version, "items": "nope"},
        [1, 2, 3],
    ]
    out = {
        f"wrong_{i}": summary(parse_feed(f"w{i}.json", json.dumps(d).encode()))
        for i, d in enumerate(wrong)
    }
    deep = "[" * 900 + "]" * 900
    out["deep_items"] = summary(
        parse_feed("deep.json", f'{{"version": "{version}", "items": {deep}}}'.encode())
    )
    out["deep_title"] = summary(
        parse_feed(
            "deep2.json",
            f'{{"version": "{version}", "items": [{{"id": "1", "title": {deep}}}]}}'.encode(),
        )
    )
    deep_obj = '{"a":' * 900 + "1" + "}" * 900
    out["deep_object"] = summary(
        parse_feed(
            "deep3.json", f'{{"version": "{version}", "x": {deep_obj}, "items": []}}'.encode()
        )
    )
    out["huge_int"] = summary(
        parse_feed(
            "int.json", f'{{"version": "{version}", "items": [{{"id": {"9" * 100000}}}]}}'.encode()
        )
    )
    return out


def case_invisible_characters() -> dict:
    from connectors.feeds import parse_feed

    marks = {
        "zwsp": "\u200b",
        "soft_hyphen": "\u00ad",
        "word_joiner": "\u2060",
        "bom": "\ufeff",
        "nul": "\x00",
        "bidi_override": "\u202e",
        "lrm": "\u200e",
        "zwnj": "\u200c",
    }
    entries = "".join(
        item(f"{name}-{n}", "t", EN_FLAGGED.format(form.format(mark)).replace("\x00", "&#0;"))
        for name, mark in marks.items()
        for n, form in enumerate(("war{}crimes", "war {}crimes", "war{} crimes", "wa{}r crimes"))
    )
    outcome = parse_feed("invisible.xml", rss(entries))
    return {**summary(outcome), **flag_all(outcome), "guids": [i.guid for i in outcome.items]}


def case_identity() -> dict:
    from connectors.feeds import parse_feed

    entries = (
        item("1", "Story one", "First story text.", "https://a.example/1")
        + item("1", "Story two", "A different story reusing the guid.", "https://a.example/2")
        + item("1", "Story one", "First story text.", "https://a.example/1")
    )
    return flag_all(parse_feed("ids.xml", rss(entries)))


def case_parse_deadline() -> dict:
    from connectors.parse_worker import ParseWorker

    big = rss("".join(item(str(i), "t", "<p>war crimes</p>" * 50) for i in range(3000)))
    with ParseWorker(cpu_seconds=0.2) as worker:
        slow = worker.parse("slow.xml", big)
        after = worker.parse("small.xml", rss(item("1", "small", "ok")))
        restarts = worker.restarts
    return {"slow": summary(slow), "after": summary(after), "restarts": restarts}


CASES = {name[5:]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}


# ---------------------------------------------------------------- the runner


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_case(name: str, env: dict[str, str] | None = None) -> dict:
    """Runs one case in a child under the limits; its JSON result."""
    code = f"import json, tests.test_hostile as h; print(json.dumps(h.CASES[{name!r}]()))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CPU_SECONDS * 6,
        preexec_fn=_limits,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, f"case {name} exited {proc.returncode}: {proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


MARKUP_RE = re.compile(r"<[a-zA-Z/!?]")


def no_markup(text: str) -> bool:
    return not MARKUP_RE.search(text)


def test_billion_laughs_expands_nothing():
    out = run_case("billion_laughs")
    for name, result in out.items():
        assert result["status"] in ("parsed", "dead_letter"), name
        text = " ".join(result["titles"] + result["texts"])
        assert "lol" * 20 not in text, name
        assert len(text) < 1000, name
    assert out["prolog"]["status"] == "parsed"
    assert any("entities" in w for w in out["prolog"]["warnings"])


def test_one_entity_referenced_thousands_of_times_is_capped():
    from connectors.xmlguard import EXPANSION_CAP

    out = run_case("quadratic_entity")
    assert out["status"] == "parsed"
    assert sum(map(len, out["texts"])) <= out["size"] + EXPANSION_CAP
    assert any("cap" in w for w in out["warnings"])


def test_external_entities_and_dtds_read_and_fetch_nothing(server):
    from tests.localserver import Reply

    for path in ("/entity", "/feed.dtd", "/param", "/public.dtd"):
        server.route(path, lambda request: Reply(200, b"FETCHED"))
    out = run_case("external_entities", env={"HOSTILE_BASE": server.url("")})
    for name, result in out.items():
        text = " ".join(result["titles"] + result["texts"])
        assert "root:" not in text and "FETCHED" not in text, name
        assert result["status"] == "parsed", name
    assert server.requests == []


def test_100k_nested_elements_are_bounded():
    out = run_case("nested_elements")
    for name, result in out.items():
        assert result["status"] in ("parsed", "dead_letter"), name
        assert all(no_markup(t) for t in result["texts"]), name
    assert out["html"]["status"] == "parsed" and out["html"]["texts"] == ["text"]


def test_long_lines_and_gzip_bombs():
    out = run_case("long_lines")
    assert out["line"]["status"] == "parsed" and out["line_length"] > 15_000_000
    assert out["huge"]["stages"] == ["read"] and "over the limit" in out["huge"]["reasons"][0]
    assert out["bomb_size"] < 1_000_000
    assert out["bomb"]["stages"] == ["read"]
    assert "decompresses to more than" in out["bomb"]["reasons"][0]
    assert out["gzip"]["titles"] == ["zipped"]


def test_boms_utf16_and_bad_bytes_keep_text_and_flags():
    out = run_case("encodings")
    for name in (
        "double_utf8_bom",
        "utf8_bom_then_utf16_bom",
        "utf16_bom_declared_utf8",
        "utf16le_no_bom_declared_utf8",
        "utf16be_no_bom_declared_utf8",
    ):
        assert out[name]["titles"] == ["Война"], name
        assert out[name]["flagged"] == ["1"], name
        assert "\ufeff" not in out[name]["clean_texts"][0], name
    ru = out["ru_one_bad_byte"]
    assert ru["items"] == 20 and len(ru["flagged"]) == 20 and ru["spans_ok"]
    assert any(w.startswith("decoding:") for w in ru["warnings"])
    assert all("Прокуратура" in t for t in ru["texts"])
    assert out["random_1mb"]["status"] == "dead_letter"


def test_script_style_iframe_and_split_tags_leave_no_markup():
    out = run_case("markup_tricks")
    for text in out["texts"] + out["feed_texts"]:
        assert no_markup(text), text
        assert "alert" not in text, text
    assert out["texts"][0] == "safe"
    for guid in ("js", "vb", "data"):
        url, canonical, unsafe = out["links"][guid]
        assert url is None and canonical is None and len(unsafe) == 1
    assert out["timed"] == {"script_160k": 0, "tag_160k": 0, "comment_160k": 0}


def test_json_feed_wrong_types_and_deep_nesting_never_escape():
    out = run_case("json_feeds")
    assert out["wrong_0"]["status"] == "parsed" and out["wrong_0"]["titles"] == [""]
    assert out["wrong_1"]["titles"] == ["7"]
    assert out["wrong_4"]["titles"][-1] == "kept" and len(out["wrong_4"]["reasons"]) == 4
    assert out["wrong_5"]["urls"] == [
        "javascript:alert(1)"
    ]  # the reader keeps it; normalise refuses it
    for name in ("wrong_6", "wrong_7", "wrong_8"):
        assert out[name]["status"] == "dead_letter", name
    for name in ("deep_items", "deep_title", "deep_object"):
        assert out[name]["status"] == "dead_letter", name
        assert "nested 9" in out[name]["reasons"][0], name
    assert out["huge_int"]["status"] == "dead_letter"


def test_invisible_characters_do_not_break_the_match():
    out = run_case("invisible_characters")
    assert out["items"] == 32
    assert sorted(out["flagged"]) == sorted(out["guids"])
    assert out["spans_ok"]
    invisible = ("\u200b", "\x00", "\u202e", "\u00ad", "\u2060", "\ufeff", "\u200e")
    assert not [t for t in out["clean_texts"] if any(c in t for c in invisible)]


def test_reused_guid_with_other_content_gets_its_own_id():
    out = run_case("identity")
    first, second, third = out["ids"]
    assert first == third  # the same entry twice stays one id: a true duplicate
    assert second != first and second.startswith(first) and "~" in second


def test_parse_past_its_cpu_deadline_is_a_dead_letter_and_the_worker_recovers():
    out = run_case("parse_deadline")
    assert out["slow"]["status"] == "dead_letter"
    assert "s of CPU" in out["slow"]["reasons"][0]
    assert out["after"]["titles"] == ["small"]
    assert out["restarts"] == 1


def test_non_regular_files_are_refused_unopened(tmp_path):
    from connectors.files import not_regular

    fifo = tmp_path / "feed.xml"
    os.mkfifo(fifo)
    assert "FIFO" in not_regular(str(fifo))
    assert "character device" in not_regular("/dev/null")
    regular = tmp_path / "ok.xml"
    regular.write_bytes(b"<rss/>")
    assert not_regular(str(regular)) is None


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_is_run_by_a_test(name):
    # A case added to the module must be asserted on somewhere above.
    source = Path(__file__).read_text(encoding="utf-8")
    assert f'run_case("{name}"' in source


# ---------------------------------------------------------------- end to end


def _hostile_folder(root: Path) -> dict[str, str]:
    """Writes a folder of hostile and good feeds; file name -> what must become of it."""
    ru_items = "".join(
        item(f"ru-{i}", f"Новость {i}", f"{RU_FLAGGED} Сообщение {i}.") for i in range(20)
    )
    ru = (
        '<?xml version="1.0" encoding="utf-8"?>'
        + rss(ru_items, channel="<title>Лента</title><language>ru</language>").decode()
    ).encode()
    cut = ru.index("Новость 7".encode())
    files: dict[str, bytes] = {
        "ru-bad-byte.xml": ru[:cut] + b"\xff" + ru[cut:],
        "billion.xml": rss(
            item("lol", "&lol9;", "x"),
            head='<!DOCTYPE l [<!ENTITY lol0 "lol">'
            + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
            + "]>",
        ),
        "zipped.bin": gzip.compress(rss(item("gz", "Zipped", EN_FLAGGED.format("war crimes")))),
        "utf16.xml": (
            '<?xml version="1.0" encoding="utf-8"?>'
            + rss(item("u16", "UTF-16", EN_FLAGGED.format("war crimes in Izium"))).decode()
        ).encode("utf-16-le"),
        "invisible.xml": rss(item("zw", "Z", EN_FLAGGED.format("war\u200b crimes in Mariupol"))),
        "scripts.xml": rss(
            item(
                "js",
                "<script>alert(1)</script>Hostile",
                "&lt;script&gt;alert(2)&lt;/script&gt;x",
                link="javascript:alert(3)",
            )
            + item(
                "script-ok",
                "Kept",
                EN_FLAGGED.format("<scr<b></b>ipt>war crimes</script> war crimes at Kherson"),
            )
        ),
        "types.json": json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": 7,
                "items": [
                    {
                        "id": 5,
                        "url": 3,
                        "title": ["x"],
                        "content_text": EN_FLAGGED.format("war crimes near Kupiansk"),
                    },
                    "not an object",
                ],
            }
        ).encode(),
        "deep.json": (
            '{"version": "https://jsonfeed.org/version/1.1", "items": '
            + "[" * 900
            + "]" * 900
            + "}"
        ).encode(),
        "bomb.xml.gz": gzip.compress(b"<rss>" + b"\0" * (64 * 1024 * 1024), 9),
        "big.xml": rss(item("big", "b", "a" * (21 * 1024 * 1024))),
        "empty.xml": b"",
        "reused-guid.xml": rss(
            item(
                "r",
                "Shelling of the hospital",
                EN_FLAGGED.format("war crimes at the hospital in Okhmatdyt"),
                "https://x.example/1",
            )
            + item(
                "r",
                "Filtration camps",
                EN_FLAGGED.format(
                    "war crimes in filtration camps near Olenivka, with torture of prisoners"
                ),
                "https://x.example/2",
            )
        ),
        "a/feed.xml": rss(
            item("1", "Desk A", EN_FLAGGED.format("war crimes in Bucha and Irpin")),
            channel="<title>Desk</title><language>en</language>",
        ),
        "b/feed.xml": rss(
            item(
                "1",
                "Desk B",
                EN_FLAGGED.format("war crimes against prisoners of war near Avdiivka"),
            ),
            channel="<title>Desk</title><language>en</language>",
        ),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.mkfifo(root / "fifo.xml")
    return {**{name: "read" for name in files}, "fifo.xml": "read"}


def test_replay_of_a_hostile_folder_accounts_for_every_file_and_keeps_the_flags(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    names = _hostile_folder(folder)
    out = tmp_path / "out"

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (600, 600))

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "replay",
            str(folder),
            "--output",
            str(out),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        preexec_fn=limits,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    counts = json.loads((out / "summary.json").read_text())
    files = (
        counts.get("files.parsed", 0)
        + counts.get("files.empty", 0)
        + counts.get("files.dead_letter", 0)
    )
    assert files == len(names)
    dead = [json.loads(line) for line in (out / "dead_letter.jsonl").read_text().splitlines()]
    dead_files = {d["path"]: d["reason"] for d in dead if d["kind"] == "file"}
    assert set(dead_files) == {"fifo.xml", "deep.json", "bomb.xml.gz", "big.xml", "empty.xml"}
    assert "FIFO" in dead_files["fifo.xml"]
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    flagged = {(i["origin"], i["guid"]) for i in items if i["flags"]}
    assert {("ru-bad-byte.xml", f"ru-{n}") for n in range(20)} <= flagged
    for expected in [
        ("zipped.bin", "gz"),
        ("utf16.xml", "u16"),
        ("invisible.xml", "zw"),
        ("scripts.xml", "script-ok"),
        ("types.json", "5"),
        ("a/feed.xml", "1"),
        ("b/feed.xml", "1"),
    ]:
        assert expected in flagged, expected
    reused = [i for i in items if i["origin"] == "reused-guid.xml"]
    assert len({i["id"] for i in reused}) == 2 and all(i["flags"] for i in reused)
    assert not [i for i in items if (i["duplicate"] or {}).get("kind") == "id"]
    assert counts.get("warning.collision_id") == 1 and counts.get("warning.decoding") == 1
    for it in items:
        assert not MARKUP_RE.search(it["title"] + it["text"]), it["guid"]
        assert not (it["url"] or "").lower().startswith("javascript:")
    js = next(i for i in items if i["guid"] == "js")
    assert js["unsafe_urls"] == ["javascript:alert(3)"]
