"""The underground as an event-driven simulation, compiled with Numba.

Recordings ("titles") arrive from four routes (sailors' LPs in ports, tourists' LPs bartered by
dealers near hotels, Western radio taped near borders, bards taped live in apartments). Each title
then spreads hand to hand through the friendship graph, event by event in time order (a heap):

* a person whose household owns a tape recorder gets a **tape** dubbed from the copy that reached
  them (by the friend who owns it, by a dealer who sells it for 3 roubles, or by themselves from a
  lent copy); the medium (reel or cassette) and the deck model come from the recorder;
* in the bone era, a person with a gramophone buys a **bone record** from a cutter of their city,
  cut from the cutter's master of that title; cutters cut a limited number a day, and after the
  ban some records are the state's fake "surprise" records that spread nothing;
* anyone else can only pass the physical copy on (lend it), at most ``lend_depth`` hands.

Every copy draws its fate when made: wear (mean life per medium), confiscation (yearly hazard per
medium: the 1958 ban, Komsomol patrols, less for tapes that hide banned songs among harmless ones),
erasure at customs when a tape crosses a port or border city. A confiscation may lead to an arrest
and a prison term, during which that person passes nothing on.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numba
import numpy as np

from izdat._check import _typed, check_int
from izdat.underground.errors import SpreadError
from izdat.underground.limits import LIMITS, _bytes, memory_needed
from izdat.underground.scenario import Scenario
from izdat.underground.society import DAYS_PER_YEAR, DECK_IS_CASSETTE, Society, day_of_year

__all__ = ["History", "simulate", "MEDIA", "FATES", "SOURCES", "LATHES", "REASONS"]

MEDIA = ("LP", "bone", "reel", "cassette")
FATES = ("alive", "worn_out", "confiscated", "erased")
SOURCES = ("sailor", "tourist", "radio", "bard", "state")
LATHES = ("home-built", "telefunken", "state-press")
REASONS = ("LP", "bone", "reel", "cassette", "ring")

# columns of the integer copy table
C_PARENT, C_TITLE, C_MEDIUM, C_GEN, C_MAKER, C_OWNER, C_CITY, C_FATE, C_DECK, C_LATHE, C_HIDDEN, C_FAKE = range(12)
N_CI = 12
F_MADE, F_PRICE, F_ENDED = range(3)


@dataclass
class History:
    """Everything one run produced (arrays, one row per copy / arrest / title).

    Attributes
    ----------
    ci : int32 array (n_copies, 12)
        parent (-1 none), title, medium, generation, maker (-1 none), owner, city, fate, deck (-1),
        lathe (-1), hidden (0/1), fake (0/1).
    cf : float64 array (n_copies, 3)
        made (day since 1946-01-01), price (roubles), ended (day; ``inf`` while alive).
    arrests : float64 array (n_arrests, 5)
        person, start day, release day, reason (index into :data:`REASONS`), city.
    titles : float64 array (n_titles, 4)
        arrival day, source (index into :data:`SOURCES`), city, first copy id (-1: never spread).
    end_day : float
        Last simulated day.
    """

    ci: np.ndarray
    cf: np.ndarray
    arrests: np.ndarray
    titles: np.ndarray
    end_day: float
    start_year: int
    end_year: int
    seed: int
    policy: list = field(default_factory=list)

    @property
    def n_copies(self) -> int:
        """Number of copies made."""
        return len(self.ci)


@numba.njit(cache=True)
def _fate(t0, medium, hidden, P, H, end_day):
    life = -np.log(1.0 - np.random.random()) * P[22 + medium]
    wear = t0 + life
    stop = min(wear, end_day)
    fac = P[12] if hidden else 1.0
    t = t0
    while t < stop:
        yi = int(t / 365.25)
        seg = min((yi + 1) * 365.25, stop)
        h = H[medium, min(yi, H.shape[1] - 1)] * fac
        if h > 0.0:
            dt = -np.log(1.0 - np.random.random()) / h * 365.25
            if t + dt < seg:
                return 2, t + dt
        t = seg
    if wear < end_day:
        return 1, wear
    return 0, np.inf


#: One record per person with what the event loop reads for every hand-over, so that a hand-over
#: costs one cache line per person instead of one per array (at 10 million people nothing is cached).
#: Who already has the current title, and who ever had a prison term, are bit sets (1.2 MB for 10
#: million people, so they stay in cache): most hand-overs are refused on those two checks alone.
PERSON = np.dtype([("rec", np.float64), ("jail_from", np.float64), ("jail_until", np.float64),
                   ("hh", np.int32), ("gram", np.int8), ("role", np.int8)], align=True)


@numba.njit(cache=True, inline="always")
def _bit(bits, i):
    return (bits[i >> 6] >> np.uint64(i & 63)) & np.uint64(1)


@numba.njit(cache=True, inline="always")
def _set_bit(bits, i):
    bits[i >> 6] |= np.uint64(1) << np.uint64(i & 63)


@numba.njit(cache=True, inline="always")
def _jailed(people, jailbits, p, t):
    return _bit(jailbits, p) != 0 and people[p].jail_from <= t < people[p].jail_until


@numba.njit(cache=True)
def _engine(seed, indptr, indices, city, household, role, people, rec_day, hh_deck, lathe,
            is_cassette, customs, lp_rub, city_start, cut_ptr, cut_ids, usage,
            titles, P, H, ci, cf, arrests, ev_cap):
    np.random.seed(seed)
    # one 32-byte row per pending hand-over: target and carrier, copy, depth * 4 + mode with the
    # next hand-over of its day above bit 8, and the time (as float64 bits). Pending hand-overs wait in one bucket per day (a
    # linked list) and only today's are in a heap: the same order as one big heap, without its
    # cache misses when millions are pending.
    ev = np.empty((ev_cap, 4), dtype=np.int64)
    ev_t = ev.view(np.float64)
    seen = np.zeros((city.size >> 6) + 1, dtype=np.uint64)
    most = int(P[28] * max(P[1], 1.0)) + 1
    nb = np.empty(most, dtype=np.int64)
    nb_hh = np.empty(most, dtype=np.int32)
    nb_rec = np.empty(most, dtype=np.float64)
    nb_gram = np.empty(most, dtype=np.int8)
    jailbits = np.zeros((city.size >> 6) + 1, dtype=np.uint64)
    for p in range(city.size):
        if np.isfinite(people[p].jail_from):
            _set_bit(jailbits, p)
    n_days = int(P[20]) + 2
    head = np.full(n_days, -1, dtype=np.int64)
    cap = ci.shape[0]
    nc = 0
    na = 0
    end_day = P[20]
    for ti in range(titles.shape[0]):
        t0 = titles[ti, 0]
        src = int(titles[ti, 1])
        c = int(titles[ti, 2])
        lo, hi = city_start[c], city_start[c + 1]
        if hi <= lo:
            continue
        # --- the original copy
        holder = -1
        medium = -1
        if src <= 1:  # sailor (role 1) or tourist via a dealer (role 2)
            want = 1 if src == 0 else 2
            for _ in range(4000):
                p = lo + np.random.randint(hi - lo)
                if role[p] == want:
                    holder = p
                    break
            if holder < 0:
                holder = lo + np.random.randint(hi - lo)
            medium = 0
        else:  # radio or bard: someone with a recorder (or, for radio before tapes, a cutter)
            for _ in range(4000):
                p = lo + np.random.randint(hi - lo)
                if people[p].rec <= t0:
                    holder = p
                    break
            if holder >= 0:
                medium = 3 if is_cassette[hh_deck[household[holder]]] else 2
            elif src == 2 and P[4] <= t0 < P[5] and cut_ptr[c + 1] > cut_ptr[c]:
                holder = cut_ids[cut_ptr[c] + np.random.randint(cut_ptr[c + 1] - cut_ptr[c])]
                medium = 1
        if holder < 0:
            continue
        if nc >= cap:
            return -1, nc, na
        k = nc
        nc += 1
        ci[k, C_PARENT] = -1
        ci[k, C_TITLE] = ti
        ci[k, C_MEDIUM] = medium
        ci[k, C_GEN] = 0
        ci[k, C_MAKER] = -1 if medium == 0 else holder
        ci[k, C_OWNER] = holder
        ci[k, C_CITY] = c
        ci[k, C_DECK] = hh_deck[household[holder]] if medium >= 2 else -1
        ci[k, C_LATHE] = lathe[holder] if medium == 1 else -1
        ci[k, C_HIDDEN] = 0
        ci[k, C_FAKE] = 0
        cf[k, F_MADE] = t0
        cf[k, F_PRICE] = lp_rub[c] if medium == 0 else 0.0
        if medium == 0 and np.random.random() < P[21]:
            fate, ended = 2, t0
        else:
            fate, ended = _fate(t0, medium, False, P, H, end_day)
        ci[k, C_FATE] = fate
        cf[k, F_ENDED] = ended
        titles[ti, 3] = k
        seen[:] = 0
        _set_bit(seen, holder)
        if ended <= t0:
            continue
        # --- spread, event by event
        heap = [(0.0, np.int64(0))]
        heap.pop()
        ne = 0
        today = int(t0)        # the heap holds today's hand-overs, the buckets later days'
        last = today
        # push the holder's contacts
        stack_p = holder
        stack_c = np.int64(k)
        stack_d = 0
        t = t0
        while True:
            # schedule hand-overs from stack_p holding copy stack_c at time t
            mult = P[1] if role[stack_p] == 2 else 1.0
            pp = min(P[0] * mult * 0.5 ** ((t - t0) / P[3]), 1.0)
            c_end = min(cf[stack_c, F_ENDED], end_day)
            e0 = indptr[stack_p]
            deg = indptr[stack_p + 1] - e0
            hh_p = household[stack_p]
            m = min(np.random.binomial(deg, pp), int(P[28] * mult)) if deg > 0 else 0
            # draw the contacts first, then read their records in one pass: the reads are
            # independent, so the CPU overlaps their cache misses instead of waiting for each
            for j in range(m):
                nb[j] = e0 + np.random.randint(deg)
            for j in range(m):
                nb[j] = indices[nb[j]]
            for j in range(m):
                s = nb[j]
                if _bit(seen, s):
                    nb[j] = -1
                else:
                    nb_hh[j] = people[s].hh
                    nb_rec[j] = people[s].rec
                    nb_gram[j] = people[s].gram
            for j in range(m):
                s = nb[j]
                if s < 0:
                    continue
                tt = t - np.log(1.0 - np.random.random()) * P[2]
                if tt >= c_end or nb_hh[j] == hh_p:
                    continue
                # decide now what the contact could do with it, so dead ends never enter the heap
                if nb_rec[j] <= tt:
                    mode = 0
                elif P[4] <= tt < P[5] and nb_gram[j] and np.random.random() < P[26]:
                    mode = 1
                elif stack_d < P[6] and np.random.random() < P[27]:
                    mode = 2
                else:
                    continue
                if ne >= ev_cap:
                    return -2, nc, na
                ev[ne, 0] = (s << 32) | stack_p
                ev[ne, 1] = stack_c
                ev[ne, 2] = stack_d * 4 + mode
                d = int(tt)
                if d == today:
                    heapq.heappush(heap, (tt, np.int64(ne)))
                else:
                    ev_t[ne, 3] = tt
                    ev[ne, 2] |= (head[d] + 1) << 8
                    head[d] = ne
                    last = max(last, d)
                ne += 1
            # next event that leads somewhere
            found = False
            while True:
                if len(heap) == 0:
                    while today < last and head[today + 1] < 0:
                        today += 1
                    if today >= last:
                        break
                    today += 1
                    e = head[today]
                    head[today] = -1
                    while e >= 0:
                        heap.append((ev_t[e, 3], e))
                        e = (ev[e, 2] >> 8) - 1
                    heapq.heapify(heap)
                t, e = heapq.heappop(heap)
                r = ev[e, 0] >> 32
                # (the copy is still in use: hand-overs after its end were never scheduled)
                if _bit(seen, r):
                    continue
                q = ev[e, 0] & 0xFFFFFFFF
                if _jailed(people, jailbits, q, t):
                    continue
                cc = ev[e, 1]
                depth = (ev[e, 2] & 0xFF) >> 2
                mode = ev[e, 2] & 3
                if mode == 0:
                    # --- a tape dub
                    q_has = people[q].rec <= t
                    if q_has and role[q] == 2:
                        maker, price = q, P[9]
                    elif q_has and ci[cc, C_OWNER] == q:
                        maker, price = q, P[10]
                    else:
                        maker, price = r, 0.0
                    dk = hh_deck[household[maker]]
                    if nc >= cap:
                        return -1, nc, na
                    k = nc
                    nc += 1
                    med = 3 if is_cassette[dk] else 2
                    hidden = np.random.random() < P[11]
                    ci[k, C_PARENT] = cc
                    ci[k, C_TITLE] = ti
                    ci[k, C_MEDIUM] = med
                    ci[k, C_GEN] = ci[cc, C_GEN] + 1
                    ci[k, C_MAKER] = maker
                    ci[k, C_OWNER] = r
                    ci[k, C_CITY] = city[r]
                    ci[k, C_DECK] = dk
                    ci[k, C_LATHE] = -1
                    ci[k, C_HIDDEN] = hidden
                    ci[k, C_FAKE] = 0
                    cf[k, F_MADE] = t
                    cf[k, F_PRICE] = price
                    _set_bit(seen, r)
                    cq, cr = city[q], city[r]
                    if cq != cr and (customs[cq] or customs[cr]) and \
                            np.random.random() < P[13] * (P[12] if hidden else 1.0):
                        ci[k, C_FATE] = 3
                        cf[k, F_ENDED] = t
                        continue
                    fate, ended = _fate(t, med, hidden, P, H, end_day)
                elif mode == 1 and cut_ptr[city[r] + 1] > cut_ptr[city[r]]:
                    # --- a bone record bought from a cutter of the city
                    cr = city[r]
                    ncut = cut_ptr[cr + 1] - cut_ptr[cr]
                    start = np.random.randint(ncut)
                    cutter = -1
                    day = -1
                    for j in range(ncut):
                        ix = cut_ptr[cr] + (start + j) % ncut
                        if _jailed(people, jailbits, cut_ids[ix], t):
                            continue
                        d0 = int(t)
                        for d in range(d0, min(d0 + 30, usage.shape[1], int(P[5]))):
                            if usage[ix, d] < P[7]:
                                cutter, day = ix, d
                                break
                        if cutter >= 0:
                            break
                    if cutter < 0:
                        if depth < P[6]:
                            _set_bit(seen, r)
                            stack_p, stack_c, stack_d = r, cc, depth + 1
                            found = True
                            break
                        continue
                    if nc >= cap:
                        return -1, nc, na
                    k = nc
                    nc += 1
                    tm = max(t, day + 0.5)
                    fake = t >= P[19] and np.random.random() < P[18]
                    ci[k, C_TITLE] = ti
                    ci[k, C_MEDIUM] = 1
                    ci[k, C_OWNER] = r
                    ci[k, C_CITY] = cr
                    ci[k, C_DECK] = -1
                    ci[k, C_HIDDEN] = 0
                    cf[k, F_MADE] = tm
                    cf[k, F_PRICE] = P[8]
                    _set_bit(seen, r)
                    if fake:
                        ci[k, C_PARENT] = -1
                        ci[k, C_GEN] = 0
                        ci[k, C_MAKER] = -1
                        ci[k, C_LATHE] = 2
                        ci[k, C_FAKE] = 1
                        fate, ended = _fate(tm, 1, False, P, H, end_day)
                        ci[k, C_FATE] = fate
                        cf[k, F_ENDED] = ended
                        continue
                    usage[cutter, day] += 1
                    who = cut_ids[cutter]
                    ci[k, C_PARENT] = cc
                    ci[k, C_GEN] = ci[cc, C_GEN] + 1
                    ci[k, C_MAKER] = who
                    ci[k, C_LATHE] = lathe[who]
                    ci[k, C_FAKE] = 0
                    fate, ended = _fate(tm, 1, False, P, H, end_day)
                    t = tm
                else:
                    # --- no machine to play a copy: lend the physical copy on
                    if depth < P[6]:
                        _set_bit(seen, r)
                        stack_p, stack_c, stack_d = r, cc, depth + 1
                        found = True
                        break
                    continue
                ci[k, C_FATE] = fate
                cf[k, F_ENDED] = ended
                if fate == 2:  # confiscated: perhaps an arrest
                    owner = r
                    pa = P[15] if role[owner] >= 2 else P[14]
                    if np.random.random() < pa and na < arrests.shape[0]:
                        term = (0.25 + 0.75 * np.random.random()) * (P[17] if ci[k, C_MEDIUM] == 1 else P[16])
                        arrests[na, 0] = owner
                        arrests[na, 1] = ended
                        arrests[na, 2] = ended + term
                        arrests[na, 3] = ci[k, C_MEDIUM]
                        arrests[na, 4] = city[owner]
                        na += 1
                        if ended >= people[owner].jail_until:
                            people[owner].jail_from = ended
                            people[owner].jail_until = ended + term
                            _set_bit(jailbits, owner)
                stack_p, stack_c, stack_d = r, np.int64(k), 0
                found = True
                break
            if not found:
                break
    return 0, nc, na


def _titles(scenario: Scenario, society: Society, start_year: int, end_year: int, rng) -> np.ndarray:
    src = scenario["sources"]
    pops = np.array([c["population_k"] for c in scenario.cities], dtype=np.float64)
    rows = []
    routes = ((0, src["sailor_per_year"], start_year, society.city_port),
              (1, src["tourist_per_year"], max(start_year, src["tourist_from"]), society.city_hotel),
              (2, src["radio_per_year"], start_year, society.city_border),
              (3, src["bard_per_year"], max(start_year, src["bard_from"]), np.ones(len(pops), bool)))
    for code, rate, first, mask in routes:
        if not mask.any() or rate <= 0 or first > end_year:
            continue
        years = end_year + 1 - first
        count = rng.poisson(rate * years)
        when = first + rng.random(count) * years
        w = pops * mask
        where = rng.choice(len(pops), size=count, p=w / w.sum())
        rows.append(np.column_stack([day_of_year(when), np.full(count, code), where, np.full(count, -1.0)]))
    titles = np.concatenate(rows) if rows else np.zeros((0, 4))
    return titles[np.argsort(titles[:, 0], kind="stable")]


def _params(scenario: Scenario, end_day: float) -> tuple[np.ndarray, np.ndarray]:
    sp, med, money, st, src = scenario["spread"], scenario["media"], scenario["money"], scenario["state"], scenario["sources"]
    P = np.zeros(29)
    P[28] = sp["max_handovers"]
    P[27] = med["lend_probability"]
    P[26] = med["bone_buyer_share"]
    P[0] = sp["pass_probability"]
    P[1] = sp["dealer_multiplier"]
    P[2] = sp["delay_days"]
    P[3] = max(sp["interest_half_life_years"], 1e-3) * DAYS_PER_YEAR
    P[4] = day_of_year(med["bone_start"])
    P[5] = day_of_year(med["bone_end"])
    P[6] = med["lend_depth"]
    P[7] = med["cutter_copies_per_day"]
    P[8] = money["bone_rub"]
    P[9] = money["tape_dealer_rub"]
    P[10] = money["tape_friend_rub"]
    P[11] = st["hidden_share"]
    P[12] = st["hidden_factor"]
    P[13] = st["customs_erase"]
    P[14] = st["arrest_listener"]
    P[15] = st["arrest_maker"]
    P[16] = st["prison_years_tape"] * DAYS_PER_YEAR
    P[17] = st["prison_years_bone"] * DAYS_PER_YEAR
    P[18] = st["fake_share"]
    P[19] = day_of_year(st["ban_year"])
    P[20] = end_day
    P[21] = src["lp_seized_at_border"]
    P[22:26] = np.array([med["lp_life_years"], med["bone_life_years"], med["reel_life_years"],
                         med["cassette_life_years"]]) * DAYS_PER_YEAR
    years = np.arange(1946, 1992)
    H = np.zeros((4, years.size))
    bone = np.where(years >= st["ban_year"], st["bone_hazard_after_ban"], st["bone_hazard_before_ban"])
    patrol = np.where(years >= st["patrols_from"], st["patrol_multiplier"], 1.0)
    H[1] = bone * patrol
    H[2] = H[3] = st["tape_hazard"] * patrol
    return P, H


def simulate(society: Society, scenario: Scenario, *, seed: int, start_year: int = 1946,
             end_year: int = 1990) -> History:
    """Run the underground from 1 January ``start_year`` to 31 December ``end_year``.

    Parameters
    ----------
    society : Society
        From :func:`izdat.underground.society.build_society`.
    scenario : Scenario
        The parameters (see docs/underground.md).
    seed : int
        Seed, 0 to 2**63 - 1; the same society, scenario and seed give an identical history.
    start_year, end_year : int
        Calendar years, 1946 <= start_year <= end_year <= 1991 (:data:`~izdat.underground.limits.LIMITS`
        ``"year"``).

    Returns
    -------
    History

    Raises
    ------
    SpreadError
        A year or seed out of range, the years the wrong way round, or arguments of the wrong kind
        (then a ``TypeError`` too).
    """
    if not isinstance(society, Society):
        raise _typed(SpreadError)(f"society must be a Society (build_society()), not {type(society).__name__}.")
    if not isinstance(scenario, Scenario):
        raise _typed(SpreadError)(f"scenario must be a Scenario (load_scenario()), not {type(scenario).__name__}.")
    seed = check_int("seed", seed, *LIMITS["seed"], error=SpreadError)
    start_year = check_int("start_year", start_year, *LIMITS["year"], error=SpreadError)
    end_year = check_int("end_year", end_year, *LIMITS["year"], error=SpreadError)
    if start_year > end_year:
        raise SpreadError(f"start_year {start_year} is after end_year {end_year}; the run goes forward in time.")
    check_int("the society's people", society.n, *LIMITS["people"], "people", error=SpreadError)
    try:
        return _simulate(society, scenario, seed, start_year, end_year)
    except MemoryError:
        raise SpreadError(f"simulating {society.n:,} people needs more memory than is available "
                          f"(about {_bytes(memory_needed(society.n))}; see izdat.underground.limits).") from None


def _simulate(society: Society, scenario: Scenario, seed: int, start_year: int, end_year: int) -> History:
    rng = np.random.default_rng([seed, 2])
    end_day = day_of_year(end_year + 1)
    titles = _titles(scenario, society, start_year, end_year, rng)
    P, H = _params(scenario, end_day)
    n = society.n
    jail_from = np.full(n, np.inf)
    jail_until = np.full(n, -np.inf)
    # cutters by city
    cut = np.flatnonzero(society.role == 3)
    cut = cut[np.argsort(society.city[cut], kind="stable")]
    cut_ptr = np.searchsorted(society.city[cut], np.arange(len(society.city_names) + 1)).astype(np.int64)
    bone_days = int(max(min(P[5], end_day), 1))
    customs = society.city_port | society.city_border
    policy = []
    st = scenario["state"]
    ring = []
    ring_day = day_of_year(st["ring_broken_year"] + 0.5)
    if start_year <= st["ring_broken_year"] <= end_year and cut.size and st["ring_size"] > 0:
        counts = np.bincount(society.city[cut], minlength=len(society.city_names))
        big = int(np.argmax(counts))
        ring = cut[society.city[cut] == big][: int(st["ring_size"])]
        jail_from[ring] = ring_day
        jail_until[ring] = ring_day + st["prison_years_bone"] * DAYS_PER_YEAR
        policy.append((ring_day, "ring_broken", big, f"{len(ring)} bone cutters of {society.city_names[big]} arrested"))
    for year, kind, text in ((st["ban_year"], "ban", "bone records banned"),
                             (st["patrols_from"], "patrols", "Komsomol music patrols begin"),
                             (scenario["media"]["bone_start"], "bone_start", "first bone records cut"),
                             (scenario["media"]["cassette_from"], "cassettes", "cassette decks on sale")):
        if start_year <= year <= end_year:
            policy.append((day_of_year(year), kind, -1, text))
    cap = max(1024, int(n * 0.8) + 4 * len(titles))
    ev_cap = max(4096, n * 2)
    seed32 = int(rng.integers(0, 2**31 - 1))
    while True:
        ci = np.empty((cap, N_CI), dtype=np.int32)
        cf = np.empty((cap, 3), dtype=np.float64)
        arrests = np.empty((max(1024, cap // 20), 5), dtype=np.float64)
        usage = np.zeros((max(cut.size, 1), bone_days), dtype=np.uint8)
        t = titles.copy()
        t[:, 3] = -1
        people = np.empty(n, dtype=PERSON)
        people["rec"] = society.recorder_day[society.household]
        people["jail_from"] = jail_from
        people["jail_until"] = jail_until
        people["hh"] = society.household
        people["gram"] = society.gramophone
        people["role"] = society.role
        status, nc, na = _engine(seed32, society.indptr, society.indices, society.city.astype(np.int64),
                                 society.household, society.role, people, society.recorder_day,
                                 society.deck, society.lathe, DECK_IS_CASSETTE, customs, society.city_lp_rub,
                                 society.city_start, cut_ptr, cut.astype(np.int64), usage, t, P, H, ci, cf,
                                 arrests, ev_cap)
        del people
        if status == 0:
            break
        if status == -1:
            cap *= 2
        else:
            ev_cap *= 2
    if len(ring):
        ring_rows = np.column_stack([ring, np.full(len(ring), ring_day), np.full(len(ring), ring_day + st["prison_years_bone"] * DAYS_PER_YEAR),
                                     np.full(len(ring), 4.0), society.city[ring]])
        arr = np.concatenate([ring_rows, arrests[:na]])
    else:
        arr = arrests[:na].copy()
    arr = arr[np.argsort(arr[:, 1], kind="stable")]
    # a title starting before start_day cannot exist; nothing else to trim
    return History(ci=ci[:nc].copy(), cf=cf[:nc].copy(), arrests=arr, titles=t, end_day=end_day,
                   start_year=start_year, end_year=end_year, seed=seed, policy=sorted(policy))
