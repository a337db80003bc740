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
medium: the 1958 ban, Komsomol patrols from 1960 aimed at bone records far more than at tapes, all
eased from ``eases_from``, less for tapes that hide banned songs among harmless ones),
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
from izdat.underground.society import DAYS_PER_YEAR, DECK_IS_CASSETTE, Society, calendar_day, day_of_year

__all__ = ["History", "simulate", "ring_of", "MEDIA", "FATES", "SOURCES", "LATHES", "REASONS"]

MEDIA = ("LP", "bone", "reel", "cassette")
FATES = ("alive", "worn_out", "confiscated", "erased")
SOURCES = ("sailor", "tourist", "radio", "bard", "state")
LATHES = ("home-built", "telefunken", "state-press")
REASONS = ("LP", "bone", "reel", "cassette", "ring")

# columns of the integer copy table
C_PARENT, C_TITLE, C_MEDIUM, C_GEN, C_MAKER, C_OWNER, C_CITY, C_FATE, C_DECK, C_LATHE, C_HIDDEN, C_FAKE, C_GIVER = range(13)
N_CI = 13
F_MADE, F_PRICE, F_ENDED = range(3)


@dataclass
class History:
    """Everything one run produced (arrays, one row per copy / arrest / title).

    Attributes
    ----------
    ci : int32 array (n_copies, 13)
        parent (-1 none), title, medium, generation, maker (-1 none), owner, city, fate, deck (-1),
        lathe (-1), hidden (0/1), fake (0/1), giver (-1 none: who handed the copy over, the friend or
        dealer whose copy was dubbed, or the cutter who sold a bone record; not always the parent's
        owner).
    cf : float64 array (n_copies, 3)
        made (day since 1946-01-01), price (roubles), ended (day; ``inf`` while alive).
    arrests : float64 array (n_arrests, 5)
        person, start day, release day, reason (index into :data:`REASONS`), city; in order of the
        start day. A person may have several terms; they never overlap, and no copy is made by,
        handed over by or given to a person during a term of theirs.
    titles : float64 array (n_titles, 4)
        arrival day, source (index into :data:`SOURCES`), city, first copy id (-1: never spread).
    end_day : float
        The day after the last simulated day (1 January of ``end_year + 1``, on the calendar);
        every copy is made before it.
    arrest_copy : int64 array (n_arrests,)
        For each row of ``arrests``, the copy whose confiscation caused it (-1: the 1959 ring).
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
    arrest_copy: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

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
def _jailed(people, jailbits, term_head, term_next, arrests, p, t):
    # the record holds the span of all of p's terms (first start, last release): most checks end there
    if _bit(jailbits, p) == 0 or not people[p].jail_from <= t < people[p].jail_until:
        return False
    a = term_head[p]
    while a >= 0:
        if arrests[a, 1] <= t < arrests[a, 2]:
            return True
        a = term_next[a]
    return False


@numba.njit(cache=True)
def _may_arrest(people, jailbits, term_head, term_next, arrests, act_head, act_next, cf, p, d0, d1):
    """Whether person ``p`` can serve a term from day ``d0`` to ``d1``: no term of theirs overlaps it
    and nothing of theirs already simulated (a copy they made, handed over or received, for a title
    simulated earlier) falls inside it."""
    if _bit(jailbits, p) != 0:
        a = term_head[p]
        while a >= 0:
            if arrests[a, 1] < d1 and d0 < arrests[a, 2]:
                return False
            a = term_next[a]
    x = act_head[p]
    while x >= 0:
        if d0 < cf[x >> 1, 0] < d1:
            return False
        x = act_next[x]
    return True


@numba.njit(cache=True, inline="always")
def _acted(act_head, act_next, k, giver, owner):
    # copy k's two people, each on their own list: node 2k is the giver, 2k + 1 the owner
    if giver >= 0:
        act_next[2 * k] = act_head[giver]
        act_head[giver] = 2 * k
    act_next[2 * k + 1] = act_head[owner]
    act_head[owner] = 2 * k + 1


@numba.njit(cache=True, inline="always")
def _bone_demand(t, P):
    # the chance one who hears a title wants it on bone: bone_buyer_share, times ban_curbs_production
    # from the ban, halving every bone_fade_half_life_years from bone_fade_from as tapes take the buyers
    d = P[26]
    if t >= P[19]:
        d *= P[31]
    if t > P[32]:
        d *= 0.5 ** ((t - P[32]) / P[33])
    return d


@numba.njit(cache=True)
def _engine(seed, indptr, indices, city, household, role, people, rec_day, hh_deck, lathe,
            is_cassette, customs, lp_rub, city_start, cut_ptr, cut_ids, usage,
            titles, P, H, ci, cf, arrests, arrest_copy, term_head, term_next, na, act_head, act_next, ev_cap):
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
        if term_head[p] >= 0:
            _set_bit(jailbits, p)
    n_days = int(P[20]) + 2
    head = np.full(n_days, -1, dtype=np.int64)
    cap = ci.shape[0]
    nc = 0
    end_day = P[20]
    # the master each cutter cuts the current title from (a copy id, -1: none yet)
    master = np.full(max(cut_ids.size, 1), -1, dtype=np.int64)
    for ti in range(titles.shape[0]):
        t0 = titles[ti, 0]
        src = int(titles[ti, 1])
        c = int(titles[ti, 2])
        lo, hi = city_start[c], city_start[c + 1]
        if hi <= lo:
            continue
        master[:] = -1
        # --- the original copy
        holder = -1
        medium = -1
        if src <= 1:  # sailor (role 1) or tourist via a dealer (role 2); the founding LP goes to a cutter
            want = 3 if ti == int(P[30]) else (1 if src == 0 else 2)
            if want == 3:
                # the founding LP goes to the city's best-connected cutter: Bogoslovsky's "word
                # spread and the request became massive" (seed 003)
                # (ties outside his household: his household buys nothing from him)
                best, most_out = -1, -1
                for ix in range(cut_ptr[c], cut_ptr[c + 1]):
                    p = cut_ids[ix]
                    out = 0
                    for e in range(indptr[p], indptr[p + 1]):
                        out += household[indices[e]] != household[p]
                    if out > most_out and not _jailed(people, jailbits, term_head, term_next, arrests, p, t0):
                        best, most_out = p, out
                holder = best
            for _ in range(4000 if holder < 0 else 0):
                p = lo + np.random.randint(hi - lo)
                if role[p] == want and not _jailed(people, jailbits, term_head, term_next, arrests, p, t0):
                    holder = p
                    break
            if holder < 0:
                for _ in range(4000):
                    p = lo + np.random.randint(hi - lo)
                    if not _jailed(people, jailbits, term_head, term_next, arrests, p, t0):
                        holder = p
                        break
            medium = 0
        else:  # radio or bard: someone with a recorder (or, for radio before tapes, a cutter)
            for _ in range(4000):
                p = lo + np.random.randint(hi - lo)
                if people[p].rec <= t0 and not _jailed(people, jailbits, term_head, term_next, arrests, p, t0):
                    holder = p
                    break
            if holder >= 0:
                medium = 3 if is_cassette[hh_deck[household[holder]]] else 2
            elif src == 2 and P[4] <= t0 < P[5] and cut_ptr[c + 1] > cut_ptr[c]:
                # before tapes, a cutter near the border cuts the broadcast straight onto film
                ix = cut_ptr[c] + np.random.randint(cut_ptr[c + 1] - cut_ptr[c])
                if not _jailed(people, jailbits, term_head, term_next, arrests, cut_ids[ix], t0):
                    holder = cut_ids[ix]
                    master[ix] = nc
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
        ci[k, C_GIVER] = -1
        _acted(act_head, act_next, k, -1, holder)
        cf[k, F_MADE] = t0
        cf[k, F_PRICE] = lp_rub[c] if medium == 0 else 0.0
        if medium == 0 and ti != int(P[30]) and np.random.random() < P[21]:   # the founding LP crossed no border
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
            # dealers (from sources.dealers_from) and cutters sell, to more people
            mult = P[1] if role[stack_p] == 3 or (role[stack_p] == 2 and t >= P[38]) else 1.0
            pp = min(P[0] * mult * 0.5 ** ((t - t0) / P[3]), 1.0)
            c_end = min(cf[stack_c, F_ENDED], end_day)
            e0 = indptr[stack_p]
            deg = indptr[stack_p + 1] - e0
            hh_p = household[stack_p]
            m = min(np.random.binomial(deg, pp), int(P[28] * mult)) if deg > 0 else 0
            # m distinct ties, every subset of m equally likely (selection sampling, Knuth's
            # algorithm S): with m ~ Binomial(deg, pp) each tie is tried once, with probability pp,
            # independently of the others (until max_handovers cuts the number)
            need = m
            j = 0
            e = 0
            while need > 0:
                if np.random.random() * (deg - e) < need:
                    nb[j] = e0 + e
                    j += 1
                    need -= 1
                e += 1
            # then read the contacts' records in one pass: the reads are independent, so the CPU
            # overlaps their cache misses instead of waiting for each
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
                elif P[4] <= tt < P[5] and nb_gram[j] and np.random.random() < (
                        _bone_demand(tt, P) / P[26] if role[stack_p] == 3 and P[26] > 0 else _bone_demand(tt, P)):
                    mode = 1          # a cutter's own contacts buy from him (as long as the ban and the tapes
                    #                   leave them wanting bone records); others want one with the city's demand
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
                if _jailed(people, jailbits, term_head, term_next, arrests, q, t) or \
                        _jailed(people, jailbits, term_head, term_next, arrests, r, t):
                    continue
                cc = ev[e, 1]
                depth = (ev[e, 2] & 0xFF) >> 2
                mode = ev[e, 2] & 3
                if mode == 0:
                    # --- a tape dub
                    q_has = people[q].rec <= t
                    if q_has and role[q] == 2 and t >= P[38]:
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
                    ci[k, C_GIVER] = q
                    _acted(act_head, act_next, k, q, r)
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
                    if role[q] == 3 and city[q] == cr:        # the cutter who offered it cuts it first
                        for j in range(ncut):
                            if cut_ids[cut_ptr[cr] + j] == q:
                                start = j
                                break
                    cutter = -1
                    day = -1
                    src_copy = -1
                    for j in range(ncut):
                        ix = cut_ptr[cr] + (start + j) % ncut
                        d0 = int(t)
                        for d in range(d0, min(d0 + 30, usage.shape[1], int(P[5]))):
                            if usage[ix, d] < P[7]:
                                cutter, day = ix, d
                                break
                        if cutter < 0:
                            continue
                        tm = max(t, day + 0.5)
                        if _jailed(people, jailbits, term_head, term_next, arrests, cut_ids[cutter], tm) or \
                                _jailed(people, jailbits, term_head, term_next, arrests, r, tm):
                            cutter = -1
                            continue
                        # the cutter cuts from the master he has for this title; without one he
                        # borrows what reached the buyer if it is a disc or a tape, or else the
                        # disc or tape that bone record was cut from; a bone record is the master
                        # only when that is gone, and then only with probability bone_master_share
                        src_copy = master[cutter]
                        if src_copy >= 0 and cf[src_copy, F_ENDED] <= tm:
                            src_copy = -1
                        if src_copy < 0:
                            a = cc
                            while a >= 0 and ci[a, C_MEDIUM] == 1 and ci[a, C_GEN] > 0:
                                a = ci[a, C_PARENT]
                            if a >= 0 and cf[a, F_ENDED] > tm:
                                src_copy = a
                            elif cf[cc, F_ENDED] > tm and np.random.random() < P[29]:
                                src_copy = cc
                        if src_copy >= 0:
                            # a borrowed bone record serves this one cut; he keeps a disc, a tape or
                            # his own off-air record as the master
                            if ci[src_copy, C_MEDIUM] != 1 or ci[src_copy, C_GEN] == 0:
                                master[cutter] = src_copy
                            break
                        cutter = -1
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
                    who = cut_ids[cutter]
                    fake = t >= P[19] and np.random.random() < P[18]
                    ci[k, C_TITLE] = ti
                    ci[k, C_MEDIUM] = 1
                    ci[k, C_OWNER] = r
                    ci[k, C_CITY] = cr
                    ci[k, C_DECK] = -1
                    ci[k, C_HIDDEN] = 0
                    cf[k, F_MADE] = tm
                    cf[k, F_PRICE] = P[36] if np.random.random() < P[37] else P[8]   # two-sided or single
                    ci[k, C_GIVER] = who
                    _acted(act_head, act_next, k, who, r)
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
                    ci[k, C_PARENT] = src_copy
                    ci[k, C_GEN] = ci[src_copy, C_GEN] + 1
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
                    pa = P[15] if role[owner] == 3 or (role[owner] == 2 and ended >= P[38]) else P[14]
                    if ended >= P[34]:
                        pa *= P[35]       # the state eases
                    if np.random.random() < pa:
                        term = (0.25 + 0.75 * np.random.random()) * (P[17] if ci[k, C_MEDIUM] == 1 else P[16])
                        # one who is inside already, or whose simulated life goes on in that time, is
                        # not taken: terms never overlap and nobody copies from prison
                        if _may_arrest(people, jailbits, term_head, term_next, arrests, act_head, act_next, cf,
                                       owner, ended, ended + term):
                            if na >= arrests.shape[0]:
                                return -3, nc, na
                            arrests[na, 0] = owner
                            arrests[na, 1] = ended
                            arrests[na, 2] = ended + term
                            arrests[na, 3] = ci[k, C_MEDIUM]
                            arrests[na, 4] = city[owner]
                            arrest_copy[na] = k
                            if _bit(jailbits, owner) == 0:
                                people[owner].jail_from = ended
                                people[owner].jail_until = ended + term
                            else:
                                people[owner].jail_from = min(people[owner].jail_from, ended)
                                people[owner].jail_until = max(people[owner].jail_until, ended + term)
                            term_next[na] = term_head[owner]
                            term_head[owner] = na
                            _set_bit(jailbits, owner)
                            na += 1
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
    # arrival days on the calendar, from 1 January of the first year to 31 December of end_year
    hi = calendar_day(end_year + 1)
    for code, rate, first, mask in routes:
        if not mask.any() or rate <= 0 or first > end_year:
            continue
        lo = max(day_of_year(first), calendar_day(start_year))
        count = rng.poisson(rate * (hi - lo) / DAYS_PER_YEAR)
        when = np.minimum(lo + rng.random(count) * (hi - lo), np.nextafter(hi, 0.0))
        w = pops * mask
        where = rng.choice(len(pops), size=count, p=w / w.sum())
        inland = ~(society.city_port | society.city_hotel)
        if code <= 1 and inland.any() and src["lp_resold_inland"] > 0:
            # a dealer resells the LP in an inland city, where it fetches that city's price (seed 000)
            resold = rng.random(count) < src["lp_resold_inland"]
            wi = pops * inland
            where[resold] = rng.choice(len(pops), size=int(resold.sum()), p=wi / wi.sum())
        rows.append(np.column_stack([when, np.full(count, code), where, np.full(count, -1.0)]))
    titles = np.concatenate(rows) if rows else np.zeros((0, 4))
    return titles[np.argsort(titles[:, 0], kind="stable")]


def _founding(scenario: Scenario, society: Society, start_year: int, end_year: int, titles: np.ndarray):
    """Add the founding LP (Leningrad 1946: Bogoslovsky buys a record from Philo, seed 003) held by a
    cutter of its city; returns the titles and the founding title's index (-1: none)."""
    src = scenario["sources"]
    name, year = src["first_lp_city"], src["first_lp_year"]
    if not name or name not in society.city_names or not start_year <= year < end_year + 1:
        return titles, -1
    c = society.city_names.index(name)
    day = max(day_of_year(year), calendar_day(start_year))
    row = np.array([[day, 0.0, c, -1.0]])
    titles = np.concatenate([titles, row])
    order = np.argsort(titles[:, 0], kind="stable")
    return titles[order], int(np.flatnonzero(order == len(titles) - 1)[0])


def _params(scenario: Scenario, end_day: float) -> tuple[np.ndarray, np.ndarray]:
    sp, med, money, st, src = scenario["spread"], scenario["media"], scenario["money"], scenario["state"], scenario["sources"]
    P = np.zeros(39)
    P[38] = day_of_year(src["dealers_from"])
    P[34] = day_of_year(st["eases_from"])
    P[35] = st["eased_factor"]
    P[36] = money["bone_two_sided_rub"]
    P[37] = money["two_sided_share"]
    P[30] = -1.0
    P[31] = st["ban_curbs_production"]
    P[32] = day_of_year(med["bone_fade_from"])
    P[33] = max(med["bone_fade_half_life_years"], 1e-3) * DAYS_PER_YEAR
    P[29] = med["bone_master_share"]
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
    # patrols hunt bone records (seed 002), tapes far less; the state eases from eases_from
    patrols = years >= st["patrols_from"]
    eased = np.where(years >= st["eases_from"], st["eased_factor"], 1.0)
    H[1] = bone * np.where(patrols, st["patrol_multiplier"], 1.0) * eased
    H[2] = H[3] = st["tape_hazard"] * np.where(patrols, st["patrol_tape_multiplier"], 1.0) * eased
    return P, H


def ring_of(society: Society, scenario: Scenario) -> tuple[np.ndarray, int]:
    """The cutters taken with the ring of ``[state] ring_broken_year`` and their city.

    The ring is ``ring_share`` of the cutters of the city with most cutters (rounded, at least one,
    at most ``ring_size``): "in 1959, they broke up the largest roentgenizdat ring" (seed 002).
    Returns person ids (empty when there is no cutter or ``ring_size`` is 0) and the city index (-1).
    """
    st = scenario["state"]
    cut = np.flatnonzero(society.role == 3)
    if not cut.size or st["ring_size"] <= 0 or st["ring_share"] <= 0:
        return np.zeros(0, dtype=np.int64), -1
    counts = np.bincount(society.city[cut], minlength=len(society.city_names))
    big = int(np.argmax(counts))
    k = min(int(st["ring_size"]), max(1, int(round(st["ring_share"] * counts[big]))))
    return cut[society.city[cut] == big][:k], big


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


def _simulate(society: Society, scenario: Scenario, seed: int, start_year: int, end_year: int,
              titles: np.ndarray | None = None) -> History:
    rng = np.random.default_rng([seed, 2])
    # the calendar's 1 January (a 365.25-day year put it six hours late, and copies on that day)
    end_day = calendar_day(end_year + 1)
    founder = -1
    if titles is None:
        titles, founder = _founding(scenario, society, start_year, end_year,
                                    _titles(scenario, society, start_year, end_year, rng))
    P, H = _params(scenario, end_day)
    P[30] = founder
    if founder >= 0:      # the technique begins with the founding record: no bone record before it
        P[4] = max(P[4], titles[founder, 0])
    n = society.n
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
    if start_year <= st["ring_broken_year"] <= end_year:
        ring, big = ring_of(society, scenario)
        if len(ring):
            policy.append((ring_day, "ring_broken", big, f"{len(ring)} bone cutters of {society.city_names[big]} arrested"))
    for year, kind, text in ((st["ban_year"], "ban", "bone records banned"),
                             (st["patrols_from"], "patrols", "Komsomol music patrols begin"),
                             (st["eases_from"], "eases", "the state eases: fewer confiscations and arrests"),
                             (scenario["media"]["bone_start"], "bone_start", "first bone records cut"),
                             (scenario["media"]["cassette_from"], "cassettes", "cassette decks on sale")):
        if start_year <= year <= end_year:
            policy.append((day_of_year(year), kind, -1, text))
    cap = max(1024, int(n * 0.8) + 4 * len(titles))
    ev_cap = max(4096, n * 2)
    seed32 = int(rng.integers(0, 2**31 - 1))
    a_cap = max(1024, cap // 200)
    while True:
        ci = np.empty((cap, N_CI), dtype=np.int32)
        cf = np.empty((cap, 3), dtype=np.float64)
        arrests = np.empty((a_cap, 5), dtype=np.float64)
        arrest_copy = np.full(a_cap, -1, dtype=np.int64)
        # per-person lists of terms and of acts (4 bytes a person and 8 a copy while ids fit in int32)
        wide = np.int64 if 2 * cap >= 2**31 else np.int32
        term_head = np.full(n, -1, dtype=np.int32)
        term_next = np.full(a_cap, -1, dtype=np.int32)
        act_head = np.full(n, -1, dtype=wide)
        act_next = np.full(2 * cap, -1, dtype=wide)
        jail_from = np.full(n, np.inf)
        jail_until = np.full(n, -np.inf)
        # the ring's terms come first: the engine sees them from the start
        nr = len(ring)
        arrests[:nr] = np.column_stack([ring, np.full(nr, ring_day), np.full(nr, ring_day + st["prison_years_bone"] * DAYS_PER_YEAR),
                                        np.full(nr, 4.0), society.city[ring]]) if nr else arrests[:0]
        term_head[ring] = np.arange(nr)
        jail_from[ring] = ring_day
        jail_until[ring] = ring_day + st["prison_years_bone"] * DAYS_PER_YEAR
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
                                 arrests, arrest_copy, term_head, term_next, nr, act_head, act_next, ev_cap)
        del people, act_head, act_next
        if status == 0:
            break
        if status == -1:
            cap *= 2
        elif status == -2:
            ev_cap *= 2
        else:
            a_cap *= 2
    order = np.argsort(arrests[:na, 1], kind="stable")
    return History(ci=ci[:nc].copy(), cf=cf[:nc].copy(), arrests=arrests[:na][order], titles=t, end_day=end_day,
                   start_year=start_year, end_year=end_year, seed=seed, policy=sorted(policy),
                   arrest_copy=arrest_copy[:na][order])
