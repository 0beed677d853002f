#!/usr/bin/python3
"""Independent codes for each gate mode: bus, metro entry/exit, venue, access.

Like gen_codes.py (whose COSE/CWT/base45 encoder and reference verifier this
script reuses), it is written from DESIGN.md section 2 and the mode rules as
the issue and the operator's configuration state them, not from the
project's TypeScript. For each mode it writes a gate configuration, a
timeline of codes (issuer-signed, profile a, and holder-bound offline codes,
profile b, with category and product claims) and events, and for every code
the verdict the rules call for: result, reason, fare, category and barrier
openings, computed here by this script's own reading of the rules.

Usage: /usr/bin/python3 test/interop/gen_mode_codes.py OUTDIR
Writes OUTDIR/modes.json:
  {"trust": trust list,
   "modes": [{"name", "start", "gate", "steps": [
       {"name", "at", "text", "expect": {"result", "reason", "fare", "category"?, "openings"}}
     | {"name", "at", "event": "stop" | "set-mode", ...}]}]}
`expect.reason` is a string, or a list where DESIGN.md leaves the choice open;
`expect.fare` is in fen, null where nothing is charged; `expect.category` is
left out where DESIGN.md does not say whether a refusal names the holder.
Needs the Debian packages python3-cbor2 and python3-cryptography.
"""
import calendar
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_codes as g  # noqa: E402  (first: it reports a missing Python module with the packages to install)
import cbor2  # noqa: E402

TZ_OFFSET = 8 * 3600  # Asia/Shanghai: UTC+8 all year, no daylight saving

ES = g.Key("mode-issuer-cq-es256", "ES256")
ED = g.Key("mode-issuer-sc-eddsa", "EdDSA")
HOLDER = g.Key("mode-holder-ec2", "ES256")
ISS_ES, ISS_ED = "cq.yukuaima", "sc.tianfu"
TRUST = {
    "issuers": [
        {"id": ISS_ES, "name": "Chongqing (mode interop)", "keys": [ES.jwk()]},
        {"id": ISS_ED, "name": "Sichuan (mode interop)", "keys": [ED.jwk()]},
    ],
    "fleet": [],
}
KEYS = {ISS_ES: ES, ISS_ED: ED}


def epoch(local: str) -> int:
    """'YYYY-MM-DDTHH:MM:SS' in Asia/Shanghai to epoch seconds."""
    return calendar.timegm(time.strptime(local, "%Y-%m-%dT%H:%M:%S")) - TZ_OFFSET


def local_minute(t: int) -> int:
    return ((t + TZ_OFFSET) % 86400) // 60


def local_date(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t + TZ_OFFSET))


def local_weekday(t: int) -> int:
    return time.gmtime(t + TZ_OFFSET).tm_wday + 1  # 1 = Monday


def hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


_counter = [0]


def issuer_code(iss, sub, category, t, product=None):
    """Profile (a): made by the issuer's app 5 s before it is shown, valid 2 minutes."""
    return g.qr(g.sign1(KEYS[iss], cbor2.dumps(g.claims(iss, sub, t - 5, t + 115, category, product=product))))


def offline_code(iss, sub, category, t, product=None):
    """Profile (b): an inner credential bound to the phone's key, the outer code made by the phone 5 s before."""
    inner_claims = g.claims(iss, sub, t - 86400 * 10, t + 86400 * 30, category, cnf=HOLDER, product=product)
    inner = g.sign1(KEYS[iss], cbor2.dumps(inner_claims))
    _counter[0] += 1
    outer = cbor2.dumps({1: inner, 2: t - 5, 3: _counter[0]})
    return g.qr(g.sign1(HOLDER, outer, kid=HOLDER.kid))


class Mode:
    """One gate and its timeline; `present` records a code with the verdict the rules call for."""

    def __init__(self, name, start_local, gate):
        self.name = name
        self.start = epoch(start_local)
        self.start_text = start_local + "+08:00"
        self.gate = gate
        self.steps = []

    def at(self, sec):
        return self.start + sec

    def present(self, name, sec, text, result, reason, fare=None, category=None, openings=None, common="ok"):
        """`common`: what DESIGN 2's checks alone say (the reference verifier must agree) before the mode's rules."""
        t = self.at(sec)
        ref_result, ref_reason, _ = g.ref_check(text, TRUST, t, site=self.gate["site"])
        wanted = common if isinstance(common, list) else [common]
        if (ref_reason if ref_result == "refused" else "ok") not in wanted:
            raise SystemExit(f"gen_mode_codes: {self.name}/{name}: reference verifier says {ref_result} {ref_reason}, expected {common}")
        if openings is None:
            openings = 1 if result == "accepted" else 0
        expect = {"result": result, "reason": reason, "fare": fare, "openings": openings}
        if category is not None:  # the holder is known: accepted, or refused by a rule after the signature verified
            expect["category"] = category
        self.steps.append({"name": name, "at": sec, "text": text, "expect": expect})

    def event(self, name, sec, **fields):
        self.steps.append({"name": name, "at": sec, **fields})

    def document(self):
        return {"name": self.name, "start": self.start_text, "gate": self.gate, "steps": self.steps}


# ---------------------------------------------------------------- bus
BUS = {
    "operator": "cq-bus", "route": "261", "stop": "chaotianmen",
    "fares": {"default": 200, "byRoute": {"261": 200, "871": 300},
              "rules": [{"category": "senior", "fare": 0, "hours": [{"from": "09:00", "until": "17:00"}]},
                        {"category": "student", "percent": 50},
                        {"category": "disabled", "fare": 0}]},
    "transfer": {"windowMin": 60, "discount": 100},
}


class BusRules:
    """The fare of a boarding: the route's base fare, the first category rule in force, then a transfer."""

    def __init__(self):
        self.route = BUS["route"]
        self.boardings = []  # (holder, time, route) of accepted boardings

    def fare(self, holder, category, t):
        f = BUS["fares"]
        base = f["byRoute"].get(self.route, f["default"])
        fare = base
        for rule in f["rules"]:
            if rule["category"] != category:
                continue
            hours = rule.get("hours")
            if hours and not any(hhmm(h["from"]) <= local_minute(t) < hhmm(h["until"]) for h in hours):
                continue
            fare = rule["fare"] if "fare" in rule else base * rule["percent"] // 100
            break
        window = BUS["transfer"]["windowMin"] * 60
        if any(h == holder and t - bt < window and r != self.route for h, bt, r in self.boardings):
            fare = max(0, fare - BUS["transfer"]["discount"])
        self.boardings.append((holder, t, self.route))
        return fare


def bus_mode():
    m = Mode("bus", "2031-06-16T07:30:00", {"id": "CQ-BUS-5021-V1", "site": "cq-bus", "mode": "bus", "bus": BUS})
    rules = BusRules()

    def board(name, sec, iss, sub, cat, offline=False):
        t = m.at(sec)
        text = (offline_code if offline else issuer_code)(iss, sub, cat, t)
        m.present(name, sec, text, "accepted", "ok", fare=rules.fare((iss, sub), cat, t), category=cat)

    board("adult, peak, route 261", 0, ISS_ES, "acct-a", "adult")
    board("senior at the peak pays", 10, ISS_ES, "acct-s1", "senior")
    board("student offline code, half", 20, ISS_ED, "acct-st", "student", offline=True)
    board("disabled free", 30, ISS_ES, "acct-d", "disabled")
    board("child: no rule, base fare", 40, ISS_ED, "acct-c", "child")
    board("staff: no rule, base fare", 50, ISS_ES, "acct-f", "staff")
    t = m.at(60)
    m.present("ticket for a scenic site", 60,
              issuer_code(ISS_ES, "acct-w", "adult", t, product={"site": "cq.ciqikou", "entries": 1}),
              "refused", "wrong-site", category="adult", common="wrong-site")
    t = m.at(70)
    m.present("expired code", 70,
              g.qr(g.sign1(ES, cbor2.dumps(g.claims(ISS_ES, "acct-x", t - 600, t - 300, "adult")))),
              "refused", "expired", common="expired")
    m.event("route 871 at Linjiangmen", 1800, event="stop", route="871", stop="linjiangmen")
    rules.route = "871"
    board("transfer from 261 within the hour", 1810, ISS_ES, "acct-a", "adult")
    board("senior transfers at the peak", 1820, ISS_ES, "acct-s1", "senior")
    board("adult boards 871", 1830, ISS_ED, "acct-b", "adult")
    board("same route again: no transfer", 1900, ISS_ED, "acct-b", "adult")
    m.event("Huguang Guild Hall", 5400, event="stop", stop="huguang")
    board("senior off-peak rides free", 5410, ISS_ES, "acct-s2", "senior", offline=True)
    board("student after the window: no transfer", 5420, ISS_ED, "acct-st", "student", offline=True)
    board("adult after the window: no transfer", 5430, ISS_ES, "acct-a", "adult")
    return m


# ---------------------------------------------------------------- metro
METRO = {"station": "jiefangbei", "passbackMin": 20,
         "fares": {"default": 200, "rules": [{"category": "senior", "fare": 0}, {"category": "student", "percent": 50}]}}


def metro_mode():
    m = Mode("metro", "2031-06-16T08:00:00",
             {"id": "CQ-L2-JFB-R01", "site": "cq-metro-jiefangbei", "mode": "metro-entry", "metro": METRO})
    direction = ["entry"]
    inside = {}  # (issuer, subject) -> time of the last accepted entry at this station, until an exit

    def fare_of(cat):
        f = METRO["fares"]
        for rule in f["rules"]:
            if rule["category"] == cat:
                return rule["fare"] if "fare" in rule else f["default"] * rule["percent"] // 100
        return f["default"]

    def tap(name, sec, iss, sub, cat, offline=False):
        t = m.at(sec)
        text = (offline_code if offline else issuer_code)(iss, sub, cat, t)
        holder = (iss, sub)
        if direction[0] == "exit":
            inside.pop(holder, None)
            m.present(name, sec, text, "accepted", "ok", fare=None, category=cat)
        elif holder in inside and t - inside[holder] < METRO["passbackMin"] * 60:
            m.present(name, sec, text, "refused", "passback", category=cat)
        else:
            inside[holder] = t
            m.present(name, sec, text, "accepted", "ok", fare=fare_of(cat), category=cat)

    tap("adult enters", 0, ISS_ES, "acct-a", "adult")
    tap("senior enters free", 10, ISS_ES, "acct-s", "senior")
    tap("student offline code enters, half", 20, ISS_ED, "acct-st", "student", offline=True)
    tap("adult enters again: passback", 60, ISS_ES, "acct-a", "adult")
    tap("student again within the window: passback", 600, ISS_ED, "acct-st", "student", offline=True)
    tap("adult after the window", 1500, ISS_ES, "acct-a", "adult")
    m.event("gate set to exit", 1560, event="set-mode", mode="metro-exit")
    direction[0] = "exit"
    tap("senior exits", 1600, ISS_ES, "acct-s", "senior")
    tap("adult exits", 1610, ISS_ES, "acct-a", "adult")
    m.event("gate set to entry", 1700, event="set-mode", mode="metro-entry")
    direction[0] = "entry"
    tap("adult enters again after exiting", 1710, ISS_ES, "acct-a", "adult")
    tap("senior enters again after exiting", 1720, ISS_ES, "acct-s", "senior")
    tap("same account at another issuer: another holder", 1725, ISS_ED, "acct-a", "adult")
    t = m.at(1730)
    m.present("ticket for another site", 1730,
              issuer_code(ISS_ES, "acct-w", "adult", t, product={"site": "cq-metro-xiaoshizi"}),
              "refused", "wrong-site", category="adult", common="wrong-site")
    return m


# ---------------------------------------------------------------- venue
def venue_mode():
    site = "cq.ciqikou"
    capacity = 6
    m = Mode("venue", "2031-06-21T09:00:00",
             {"id": "CQ-CQK-N1", "site": site, "mode": "venue", "venue": {"dailyCapacity": capacity}})
    admitted = {}  # local date -> passages admitted

    def ticket(name, sec, iss, sub, cat, product, offline=False):
        t = m.at(sec)
        text = (offline_code if offline else issuer_code)(iss, sub, cat, t, product=product)
        entries = product.get("entries", 1)
        day = local_date(t)
        if admitted.get(day, 0) + entries > capacity:
            m.present(name, sec, text, "refused", "capacity-full", category=cat)
        else:
            admitted[day] = admitted.get(day, 0) + entries
            m.present(name, sec, text, "accepted", "ok", fare=None, category=cat, openings=entries)

    start = m.at(0)
    today = {"site": site, "from": start - 3600, "until": start + 8 * 3600}
    year = {"site": site, "from": epoch("2031-01-01T00:00:00"), "until": epoch("2032-01-01T00:00:00"), "entries": 1}
    ticket("group ticket for 3", 0, ISS_ES, "grp-1", "adult", dict(today, entries=3))
    ticket("annual pass (offline code)", 10, ISS_ED, "annual-7", "adult", year, offline=True)
    t = m.at(20)
    m.present("ticket for another site", 20,
              issuer_code(ISS_ES, "tkt-o", "adult", t, product={"site": "cq.hongyadong", "entries": 1}),
              "refused", "wrong-site", category="adult", common="wrong-site")
    t = m.at(30)
    m.present("slot later today", 30,
              issuer_code(ISS_ES, "tkt-l", "adult", t, product={"site": site, "from": t + 3600, "until": t + 7200}),
              "refused", ["outside-window", "not-yet-valid"], category="adult", common=["not-yet-valid"])
    t = m.at(40)
    m.present("slot over", 40,
              issuer_code(ISS_ES, "tkt-e", "adult", t, product={"site": site, "from": t - 7200, "until": t - 3600}),
              "refused", ["outside-window", "expired"], category="adult", common=["expired"])
    t = m.at(50)
    m.present("no entries left", 50,
              issuer_code(ISS_ED, "tkt-0", "senior", t, product={"site": site, "entries": 0}),
              "refused", "entries-used", category="senior", common="entries-used")
    ticket("senior ticket", 60, ISS_ED, "tkt-s", "senior", dict(today, entries=1))
    ticket("couple: 2 of 1 place left", 70, ISS_ES, "grp-2", "adult", dict(today, entries=2))
    ticket("the last place", 80, ISS_ES, "tkt-z", "student", dict(today, entries=1))
    ticket("full", 90, ISS_ES, "tkt-f", "adult", dict(today, entries=1))
    ticket("annual pass next morning", 86400, ISS_ED, "annual-7", "adult", year, offline=True)
    return m


# ---------------------------------------------------------------- access
ACCESS = {
    "schedules": {"school-hours": [{"days": [1, 2, 3, 4, 5], "from": "07:00", "until": "18:00"}]},
    "allow": [{"issuer": ISS_ES, "subject": "T-0001", "schedule": "school-hours"},
              {"issuer": ISS_ED, "subject": "T-0002"}],
    "visitorIssuers": [ISS_ES],
}


def access_mode():
    site = "cq-no8-school"
    m = Mode("access", "2031-06-16T07:30:00", {"id": "CQ-NO8-MAIN", "site": site, "mode": "access", "access": ACCESS})

    def verdict(iss, sub, t, profile, product):
        entry = next((e for e in ACCESS["allow"] if e["issuer"] == iss and e["subject"] == sub), None)
        if entry is not None:
            ranges = ACCESS["schedules"].get(entry.get("schedule"), None)
            if ranges is None or any(local_weekday(t) in r["days"] and hhmm(r["from"]) <= local_minute(t) < hhmm(r["until"]) for r in ranges):
                return "accepted", "ok"
            return "refused", "outside-schedule"
        # A visitor: an issuer-signed code of a visitor issuer, made for this site.
        if profile == "a" and iss in ACCESS["visitorIssuers"] and (product or {}).get("site") == site:
            return "accepted", "ok"
        return "refused", "not-allowed"

    def person(name, sec, iss, sub, cat, offline=False, product=None):
        t = m.at(sec)
        text = (offline_code if offline else issuer_code)(iss, sub, cat, t, product=product)
        result, reason = verdict(iss, sub, t, "b" if offline else "a", product)
        m.present(name, sec, text, result, reason, fare=None, category=cat)
        return text

    person("teacher in school hours", 0, ISS_ES, "T-0001", "staff")
    person("caretaker (offline code, no schedule)", 10, ISS_ED, "T-0002", "staff", offline=True)
    visitor = person("visitor code for this school", 20, ISS_ES, "visitor-1", "adult",
                     product={"site": site, "until": m.at(20) + 7200})
    m.present("the visitor's code shown again", 30, visitor, "refused", "replayed", category="adult")
    t = m.at(40)
    m.present("visitor code for another school", 40,
              issuer_code(ISS_ES, "visitor-2", "adult", t, product={"site": "cq-no3-school", "until": t + 7200}),
              "refused", "wrong-site", category="adult", common="wrong-site")
    person("code of an issuer that admits no visitors", 50, ISS_ED, "visitor-3", "adult",
           product={"site": site, "until": m.at(50) + 7200})
    person("parent's city code", 60, ISS_ES, "acct-parent", "adult")
    person("student not on the list", 70, ISS_ED, "S-7781", "student")
    person("teacher after school hours", 39600, ISS_ES, "T-0001", "staff")
    person("caretaker in the evening", 39610, ISS_ED, "T-0002", "staff", offline=True)
    person("teacher on Saturday morning", 5 * 86400 + 3600, ISS_ES, "T-0001", "staff")
    return m


def main(outdir: str) -> int:
    os.makedirs(outdir, exist_ok=True)
    modes = [bus_mode(), metro_mode(), venue_mode(), access_mode()]
    with open(os.path.join(outdir, "modes.json"), "w") as f:
        json.dump({"trust": TRUST, "modes": [m.document() for m in modes]}, f, indent=2)
    count = sum(1 for m in modes for s in m.steps if "text" in s)
    print(f"gen_mode_codes: {count} codes in {len(modes)} modes written to {outdir}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_mode_codes.py OUTDIR\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
