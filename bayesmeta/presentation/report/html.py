"""Small HTML building blocks for the self-contained report: escaping, tables, figures,
MathML, the page itself (inline CSS, no scripts, no external requests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --rule:#d9dde5; --accent:#0072B2; --harm:#B3470A;
        --ok:#1f7a3a; --bad:#b00020; --bg-soft:#f5f7fa; }
* { box-sizing: border-box; }
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; }
header.report { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.2rem;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
p.lead, .muted { color: var(--muted); }
nav.toc ol { columns: 2; margin: 0.4rem 0 0; padding-left: 1.3rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--rule); text-align: right;
         vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tr.total td { font-weight: 600; border-top: 2px solid var(--ink); }
td.flag, span.flag { color: var(--harm); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 0.3rem; }
.keybox { background: var(--bg-soft); border-left: 4px solid var(--accent);
          padding: 0.6rem 1rem; margin: 0.8rem 0; }
.keybox ul { margin: 0.2rem 0; padding-left: 1.2rem; }
.note { background: #fff8e6; border-left: 4px solid #e0a000; padding: 0.5rem 0.9rem; }
.problem { background: #fdecee; border-left: 4px solid var(--bad); padding: 0.5rem 0.9rem; }
.methods { background: var(--bg-soft); padding: 0.8rem 1rem; border: 1px dashed var(--rule);
           font-family: Georgia, "Times New Roman", serif; }
math[display="block"] { margin: 0.5rem 0 0.5rem 1.5rem; font-size: 1.1rem; }
.equations { margin: 0.4rem 0 0.8rem; }
ol.refs li { margin-bottom: 0.3rem; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.88rem; }
pre { background: var(--bg-soft); padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
@media print { main { max-width: none; } h2 { break-after: avoid; }
               figure { break-inside: avoid; } }
"""


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def p(text_html: str, cls: str | None = None) -> str:
    return f'<p class="{cls}">{text_html}</p>' if cls else f"<p>{text_html}</p>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *,
          text_columns: Sequence[int] = (0,), row_classes: Sequence[str] | None = None,
          caption: str | None = None, escape_cells: bool = True) -> str:
    """An HTML table; cells are escaped unless ``escape_cells`` is false (pre-built HTML)."""
    def cell(value: object) -> str:
        return esc(value) if escape_cells else str(value)

    out = ["<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th class="text">{esc(h)}</th>' if i in text_columns else f"<th>{esc(h)}</th>"
        for i, h in enumerate(header)) + "</tr></thead><tbody>")
    for j, row in enumerate(rows):
        cls = row_classes[j] if row_classes and row_classes[j] else ""
        out.append((f'<tr class="{cls}">' if cls else "<tr>") + "".join(
            f'<td class="text">{cell(v)}</td>' if i in text_columns else f"<td>{cell(v)}</td>"
            for i, v in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def figure(uri: str, alt: str, caption_html: str, fig_id: str) -> str:
    return (f'<figure id="{esc(fig_id)}"><img src="{uri}" alt="{esc(alt)}">'
            f"<figcaption>{caption_html}</figcaption></figure>")


def page(title: str, subtitle_html: str, toc: Sequence[tuple[str, str]], body: str) -> str:
    items = "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t in toc)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"bayesmeta\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header class="report"><h1>{esc(title)}</h1><p class="lead">{subtitle_html}</p>'
        f'</header>\n<nav class="toc"><strong>Contents</strong><ol>{items}</ol></nav>\n'
        f"{body}\n</main>\n</body>\n</html>\n")


# -- MathML (rendered natively by browsers; no scripts, no fonts to fetch) ---------------
def mi(x: str) -> str:
    return f"<mi>{esc(x)}</mi>"


def mo(x: str) -> str:
    return f"<mo>{esc(x)}</mo>"


def mn(x: str) -> str:
    return f"<mn>{esc(x)}</mn>"


def mtext(x: str) -> str:
    return f"<mtext>{esc(x)}</mtext>"


def mrow(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def msub(base: str, sub: str) -> str:
    return f"<msub>{base}{sub}</msub>"


def msup(base: str, sup: str) -> str:
    return f"<msup>{base}{sup}</msup>"


def msubsup(base: str, sub: str, sup: str) -> str:
    return f"<msubsup>{base}{sub}{sup}</msubsup>"


def munder(base: str, under: str) -> str:
    return f"<munder>{base}{under}</munder>"


def mfrac(num: str, den: str) -> str:
    return f"<mfrac>{num}{den}</mfrac>"


def math_block(*parts: str, label: str = "") -> str:
    """A displayed equation; ``label`` is its plain-text reading (for screen readers)."""
    aria = f' aria-label="{esc(label)}"' if label else ""
    return f'<math display="block"{aria}>' + mrow(*parts) + "</math>"


def math_inline(*parts: str) -> str:
    return "<math>" + mrow(*parts) + "</math>"
