"""The human reports: page order, escaping everywhere, Chinese chart labels, determinism, Chromium."""

import base64
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markupsafe import escape

import dialogdata as dd
from dialogdata.reports import charts, render_markdown, render_summary, write_reports

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</td>",
]
DATA_URI = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
SVG = "{http://www.w3.org/2000/svg}"


def _build(raw: Path, out: Path, **options) -> Path:
    """Build `raw` into `out`, write both reports from `metrics.json` alone and return `out/reports`."""
    dd.build(raw, out, **options)
    reports = out / "reports"
    write_reports(reports, json.loads((reports / "metrics.json").read_text(encoding="utf-8")))
    return reports


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The reports folder of the bundled examples built with both augmenters."""
    out = tmp_path_factory.mktemp("demo") / "out"
    return _build(
        Path(__file__).resolve().parents[2] / "examples" / "raw", out, augment=["role_swap", "adversarial"]
    )


def _texts(svg: str) -> list[str]:
    """Return the text of every <text> element of an SVG document (which must be well-formed)."""
    return ["".join(element.itertext()) for element in ET.fromstring(svg).iter(f"{SVG}text")]


def _images(html: str) -> list[str]:
    """Return the SVG documents embedded in the page as data: images."""
    return [base64.b64decode(data).decode("utf-8") for data in DATA_URI.findall(html)]


def test_summary_report_shows_verdict_fates_scores_charts_then_tables(demo):
    html = (demo / "summary.html").read_text(encoding="utf-8")
    body = html[html.index('<section id="verdict">') :]
    headings = [
        "Gate passed",
        "Fates of source records",
        "3C scores",
        "Turns per dialogue",
        "Length per role",
        "Score distributions",
        "Coverage cells",
        "Issues by code",
        "Adversarial kinds",
        "Split sizes",
        "Examples of",
        "Rejects by reason",
        "Export",
        "Inputs",
        "Skipped files",
    ]
    positions = [body.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert "reject share" in html and "✓ pass" in html
    assert '<a href="../issues.jsonl"' in html and "7a02d6a15b427f65f97012783f07fd1e" in html


def test_summary_report_embeds_each_chart_as_an_inert_svg_data_image(demo):
    html = (demo / "summary.html").read_text(encoding="utf-8")
    images = _images(html)
    assert len(images) == html.count("<img") >= 8
    for svg in images:
        assert svg.startswith("<svg") and _texts(svg)
        assert "<script" not in svg and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_summary_markdown_twin_has_the_same_verdict_and_tables(demo):
    md = (demo / "summary.md").read_text(encoding="utf-8")
    sections = [
        "## Verdict",
        "**✓ Gate passed**",
        "| reject share |",
        "## Fates",
        "| kept | 26 |",
        "## 3C scores",
        "## Issues by code",
        "## Coverage",
        "## Rejects by reason",
        "## Export losses",
        "| openai | 62 | 0 | none |",
    ]
    positions = [md.index(section) for section in sections]
    assert positions == sorted(positions)
    assert "consistency.empty\\_turn" in md and "<" not in md


def test_summary_markdown_escapes_pipes_backticks_and_html_in_cells(demo):
    metrics = json.loads((demo / "metrics.json").read_text(encoding="utf-8"))
    metrics["rejects"]["examples"][0]["excerpt"] = "a | b `c` <b>d</b> *e* [f](g)\n| h |"
    row = next(line for line in render_markdown(metrics).splitlines() if "a \\| b" in line)
    assert row.endswith("| a \\| b \\`c\\` &lt;b&gt;d&lt;/b&gt; \\*e\\* \\[f\\](g) \\| h \\| |")
    assert len(re.split(r"(?<!\\)\|", row)) == 6  # four cells: no pipe from the data splits the row


def test_summary_report_escapes_hostile_text_file_names_tool_args_and_metadata(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("<img src=x onerror=alert(1)>.jsonl", '"><svg onload=alert(1)>.jsonl'):
        lines = []
        for p in PAYLOADS:
            turns = [{"role": "user", "content": f"q {p}"}, {"role": "assistant", "content": f"a {p}"}]
            lines.append({"messages": [*turns, {"role": "user", "content": p}], "metadata": {"note": p}})
            call = {
                "id": "c1",
                "type": "function",
                "function": {"name": "lookup", "arguments": json.dumps({"q": p})},
            }
            lines.append(
                {
                    "messages": [
                        {"role": "user", "content": "rate?"},
                        {"role": "assistant", "content": "", "tool_calls": [call]},
                        {"role": "tool", "tool_call_id": "c1", "content": p},
                        {"role": "assistant", "content": f"ok {p}"},
                    ],
                    "metadata": {"src": p},
                }
            )
            rejected = [
                {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": p, "content": "x"},
            ]
            lines.append({"messages": rejected, "metadata": {"note": p}, "tools": [p]})
        text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
        (raw / name).write_text(text + '\n{"messages": "' + PAYLOADS[0] + "\n", encoding="utf-8")
    reports = _build(raw, tmp_path / "out", max_reject_share=1.0, to=["openai", "alpaca"])
    html = (reports / "summary.html").read_text(encoding="utf-8")
    md = (reports / "summary.md").read_text(encoding="utf-8")
    svgs = "\n".join(_images(html))
    for payload in PAYLOADS:
        assert str(escape(payload)) in html
        assert payload.replace("<", "&lt;").replace(">", "&gt;") in md
        assert payload not in md and payload not in svgs
    for payload in PAYLOADS[:3]:
        assert payload not in html
    assert '"&gt;&lt;svg onload=alert(1)&gt;.jsonl' in svgs  # a file name as a chart label
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    assert set(re.findall(r"<img [^>]*>", html)) <= {
        m.group(0) for m in re.finditer(r'<img src="data:[^"]*" alt="[^"<>]*">', html)
    }


def test_charts_escape_markup_in_labels_and_keep_them_as_text():
    svg = charts.counts_chart(
        {"<script>alert(1)</script>": 3, '"><svg onload=alert(1)>': 2, "a\x00b\u202ec": 1}
    )
    assert (
        "<script" not in svg and "<svg onload" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    )
    tree = ET.fromstring(svg)
    assert not [element for element in tree.iter() if element.tag.endswith(("script", "foreignObject"))]
    labels = _texts(svg)
    assert {"<script>alert(1)</script>", '"><svg onload=alert(1)>', "a b c"} <= set(labels)


def test_charts_draw_chinese_coverage_cells_as_text_for_the_browser_fonts():
    names = {"手机银行": "filled", "验证码": "thin", "年化收益率": "missing"}
    cells = [
        {
            "dimension": "entity_term",
            "name": name,
            "count": n,
            "share": n / 10,
            "minimum_count": 5,
            "status": status,
        }
        for n, (name, status) in enumerate(names.items())
    ]
    svg = charts.coverage_chart(cells)
    labels = _texts(svg)
    assert {"entity_term · 手机银行", "entity_term · 验证码", "entity_term · 年化收益率"} <= set(labels)
    assert "font-family: 'DejaVu Sans', sans-serif" in svg
    assert "DejaVuSans-" not in svg  # no glyph outlines: text stays text


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.fates_chart(
            {
                "source_records": 5,
                "kept": 3,
                "rejected": 1,
                "filtered": 1,
                "deduplicated": 0,
                "augmented": 2,
                "written": 5,
            }
        ),
        lambda: charts.histograms_chart(
            {"consistency": {"mean": 0.5, "histogram": [1, 0, 2, 0, 0, 0, 0, 0, 3, 1]}}
        ),
        lambda: charts.turns_chart({"2": 3, "10": 1, "4": 2}),
        lambda: charts.lengths_chart({"user": {"count": 2, "mean": 3.5, "median": 3, "p95": 4, "max": 4}}),
    ],
)
def test_charts_are_byte_identical_between_calls(draw):
    first = draw()
    assert draw() == first and "<dc:date>" not in first and "<metadata>" not in first


def test_summary_report_is_byte_identical_for_the_same_inputs(examples, tmp_path):
    first = _build(examples, tmp_path / "a", seed=3)
    second = _build(examples, tmp_path / "b", seed=3)
    for name in ("summary.html", "summary.md"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_summary_report_renders_from_metrics_alone_in_validate_mode(examples, tmp_path):
    from dialogdata.build import validate

    validate(examples, tmp_path / "out")
    metrics = json.loads((tmp_path / "out" / "reports" / "metrics.json").read_text(encoding="utf-8"))
    html, md = render_summary(metrics), render_markdown(metrics)
    assert "Nothing was exported (validate mode)." in html and "Nothing was exported (validate mode)." in md
    assert "ready to train on" not in html and "ready to train on" not in md


# Headless Chromium: a real render of a real build, with a screenshot and a network log.


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium: installed once with apt (with CJK fonts) when missing and root, else skip."""
    found = shutil.which("chromium")
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-noto-cjk"]
        for command in (["apt-get", "update", "-q"], install):
            subprocess.run(command, env=env, capture_output=True, timeout=1200, check=False)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("no `chromium` on PATH, and it cannot be installed here (needs root and apt-get)")
    return found


def _render(chromium: str, url: str, folder: Path) -> tuple[Path, list[str]]:
    """Screenshot `url` at 1280x2000; return the PNG and the URLs the page itself requested."""
    folder.mkdir(parents=True, exist_ok=True)
    shot, netlog = folder / "screenshot.png", folder / "netlog.json"
    command = [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        f"--log-net-log={netlog}",
        f"--user-data-dir={folder / 'profile'}",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # a request that slipped through still stays offline
        url,
    ]
    subprocess.run(command, capture_output=True, timeout=180, check=True)
    return shot, _page_requests(json.loads(netlog.read_text(encoding="utf-8")))


def _page_requests(log: dict) -> list[str]:
    """URLs of the requests a document started; the browser's own ones have no initiating origin."""
    constants = log["constants"]
    source, event = (
        constants["logSourceType"]["URL_REQUEST"],
        constants["logEventTypes"]["URL_REQUEST_START_JOB"],
    )
    return [
        entry["params"]["url"]
        for entry in log["events"]
        if entry["source"]["type"] == source
        and entry["type"] == event
        and "url" in entry.get("params", {})
        and entry["params"].get("initiator") != "not an origin"
    ]


def test_summary_report_renders_in_headless_chromium_without_network(chromium, demo, tmp_path):
    from PIL import Image

    shot, requests = _render(chromium, (demo / "summary.html").as_uri(), tmp_path / "report")
    print(f"screenshot: {shot}")
    assert requests == []
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (1280, 2000)
    colours = rgb.getcolors(maxcolors=1 << 24)
    white = sum(count for count, colour in colours if colour == (255, 255, 255))
    assert len(colours) > 200 and white < 0.9 * rgb.size[0] * rgb.size[1]
    drawn = {colour for _, colour in colours}
    assert (0x3A, 0x8D, 0x5C) in drawn  # the 'kept' bars: the SVG charts were drawn, not just the CSS
    assert (0xE8, 0xF5, 0xEC) in drawn  # the green 'gate passed' banner


def test_network_check_catches_a_page_that_loads_from_the_network(chromium, tmp_path):
    page = tmp_path / "leak.html"
    page.write_text(
        '<img src="http://127.0.0.1:9/pixel.png"><link rel="stylesheet" href="https://x.invalid/a.css">'
    )
    _, requests = _render(chromium, page.as_uri(), tmp_path / "leak")
    assert set(requests) == {"http://127.0.0.1:9/pixel.png", "https://x.invalid/a.css"}


def test_charts_show_at_most_max_rows_and_say_so():
    counts = {f"code.{i:03d}": i for i in range(100)}
    labels = _texts(charts.counts_chart(counts, xlabel="issues"))
    assert "code.099" in labels and "code.040" in labels and "code.039" not in labels
    assert f"issues ({charts.MAX_ROWS} of 100 names, the largest)" in labels
    cells = [
        {"dimension": "t", "name": f"c{i}", "count": 9, "share": 0.1, "status": "filled"} for i in range(70)
    ]
    cells[65] = {**cells[65], "count": 0, "status": "missing"}
    labels = _texts(charts.coverage_chart(cells))
    assert "t · c65" in labels and "t · c59" not in labels


def test_adversarial_chart_counts_the_written_samples_by_kind(demo):
    metrics = json.loads((demo / "metrics.json").read_text(encoding="utf-8"))
    kinds = metrics["adversarial_written"]
    assert sum(kinds.values()) == metrics["augmented"]["adversarial"] > 0
    html = (demo / "summary.html").read_text(encoding="utf-8")
    assert "No adversarial samples among the written dialogues." not in html
    drawn = [svg for svg in _images(html) if set(kinds) <= set(_texts(svg))]
    assert drawn, "no chart names every adversarial kind"
