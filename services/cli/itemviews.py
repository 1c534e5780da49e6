"""How ``postroom items show`` prints an item (services/app/itemviews.py says what it holds)."""

from __future__ import annotations

from typing import Any


def render(d: dict[str, Any]) -> str:
    lines = [f"{d['type']} #{d['number']}: {d['title']}",
             f"status: {d['status']}   step: {d['step'] or '-'}   project: {d['project']}   account: {d['account']}",
             f"customer: {d['customer'] or '-'}   contact: {d['contact'] or '-'}   creator: {d['creator'] or '-'}"
             + ("   (automatic)" if d["automatic"] else "")]
    lines += [f"{k}: {v}" for k, v in d["fields"].items()]
    lines += ["", d["description"], "", "email history:"]
    for m in d["mails"]:
        dec = m["decision"] or {}
        lines.append(f"  {m['direction']:<3} {m['created_at'][:19]} {m['from'] or '-'}  {m['subject']}")
        lines.append(f"      {m['message_id'] or '(no Message-ID)'}  [{m['classification']}]")
        lines.append(f"      matched by: {m['matched_by']}")
        lines += [f"      - {c}" for c in dec.get("considered", [])]
    for a in d["attachments"]:
        lines.append(f"  attachment {a['id']}: {a['filename']} ({a['content_type']}, {a['size']} bytes)"
                     + (f"  RISKY: {a['risk']}" if a.get("risk") else ""))
    lines.append("automatic mail:" if d["outbound"] else "automatic mail: none")
    lines += [f"  {o['created_at'][:19]} {o['kind']:<14} to {o['recipient']}: {o['status']}"
              + (f" ({o['reason']})" if o["reason"] else "") for o in d["outbound"]]
    lines.append("links:" if d["links"] else "links: none")
    lines += [f"  {x['kind']}: {x['type']} #{x['number']} {x['title']}  ({x['reason']})" for x in d["links"]]
    lines.append("notification list:" if d["notify"] else "notification list: empty")
    lines += [f"  {n['address']}  ({n['added_because']})" for n in d["notify"]]
    if d.get("merged_into"):
        lines.append(f"merged into #{d['merged_into']['number']}")
    if d["replies"]:
        lines.append("replies:")
        lines += [f"  {r['at'][:19]} {r['by']} to {', '.join(r['to'])}: {r['delivery']}"
                  + (f" ({r['reason']})" if r["reason"] else "") for r in d["replies"]]
    if d["history"]:
        lines.append("history:")
        lines += [f"  {h['at'][:19]} {h['actor']} {h['action']}" for h in d["history"]]
    return "\n".join(lines)
