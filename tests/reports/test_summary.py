import json

from markupsafe import escape

import dialogdata as dd

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</td></tr>",
]


def test_summary_escapes_dialogue_text_in_issues_and_rejects(tmp_path):
    raw = tmp_path / "raw.jsonl"
    lines = []
    for payload in PAYLOADS:
        lines.append(json.dumps({"messages": [{"role": "user", "content": payload}]}))
        lines.append('{"messages": "' + payload)
        lines.append(json.dumps({"messages": [{"role": payload, "content": "x"}]}))
    lines.append(
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    )
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = dd.build(raw, tmp_path / "out", max_reject_share=1.0)
    html = result.report.read_text(encoding="utf-8")
    assert result.fates["rejected"] == 8 and result.fates["filtered"] == 4
    for payload in PAYLOADS:
        assert str(escape(payload)) in html
    for payload in PAYLOADS[:3]:
        assert payload not in html
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    assert html.count("<img") == html.count('<img src="data:image/svg+xml;base64,')


def test_summary_has_a_restrictive_csp_and_no_external_resources(examples, tmp_path):
    html = dd.build(examples, tmp_path / "out").report.read_text(encoding="utf-8")
    assert "default-src 'none'" in html
    assert "http://" not in html and "https://" not in html
