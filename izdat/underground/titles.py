"""Names for the simulation's titles: a performer and a song for every recording that arrives.

The simulation draws *when* and *by which route* a recording arrives (:data:`~izdat.underground.
simulate.SOURCES`: a sailor's or a tourist's record, Western radio taped near a border, a bard
taped in an apartment); this module gives it a name a historian can ask for ("the deepest
Vysotsky tape"). :data:`SONGS` is a small table of real recordings that the underground is known
to have copied, each with the routes it could come by and the year it existed from; a title is
named after one of the songs of its route that existed by the year it arrived, drawn with a
weight that halves every :data:`HALF_LIFE_YEARS` years of the song's age (a sailor brings "the
newest Elvis or Beatles 45", seed 001), recordings made before 1946 counted from 1946.

The choice is a pure function of the run's seed, the title's index, its route and its arrival
year (:func:`name_title`), so a rerun with the same seed gives the same names. Where no song of
the route existed yet (a scenario that starts the bards in 1946), the title is an anonymous
recording: "many composers didn't put their name on the records" (seed 003).

Sources: performers and routes from the seeds (000 Taylor: Galich, Okudzhava, Vysotsky, the
Beatles' *Sgt. Pepper*, Mashina Vremeni; 001 SCMP: Elvis and the Beatles through Leningrad's port;
002 Brownlee: jazz, boogie-woogie, rock'n'roll, Chuck Berry, "Heartbreak Hotel" on bones; 003 Scott:
jazz and tango in Leningrad, 1946); emigré and pre-war singers (Pyotr Leshchenko, Alexander
Vertinsky) and the songs' years from general reference works, to the nearest year (a bard's song
is dated by when it was written, which can precede its first tape by a year or two).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SONGS", "HALF_LIFE_YEARS", "ANONYMOUS", "name_title", "name_titles"]

#: A recording's weight halves with every this many years of its age when a title arrives.
HALF_LIFE_YEARS = 8.0
#: Performer and name of a title when no song of its route existed yet.
ANONYMOUS = ("anonymous", "untitled recording")

_WEST = ("sailor", "tourist", "radio")      # records from abroad and Western radio
_PORT = ("sailor",)                          # records that came by sea (emigré singers' Baltic pressings)
_HOME = ("bard",)                            # taped live in an apartment

#: ``(performer, song, year, routes)``: year is when the recording (or the song) first existed.
SONGS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    # emigré and pre-war singers, on records pressed in Riga and Bucharest, copied onto bones
    ("Pyotr Leshchenko", "Chubchik", 1935, _PORT),
    ("Pyotr Leshchenko", "Moya Marusechka", 1936, _PORT),
    ("Alexander Vertinsky", "Tango 'Magnolia'", 1931, _PORT),
    ("Alexander Vertinsky", "Lilovy negr", 1916, _PORT),
    # swing and jazz (the trophy film Sun Valley Serenade, the Voice of America's jazz hour)
    ("Glenn Miller Orchestra", "Chattanooga Choo Choo", 1941, _WEST),
    ("Glenn Miller Orchestra", "In the Mood", 1939, _WEST),
    ("Glenn Miller Orchestra", "Moonlight Serenade", 1939, _WEST),
    ("Duke Ellington", "Caravan", 1936, _WEST),
    ("Duke Ellington", "Take the 'A' Train", 1941, _WEST),
    ("Benny Goodman", "Sing, Sing, Sing", 1937, _WEST),
    ("Louis Armstrong", "When the Saints Go Marching In", 1938, _WEST),
    ("Louis Armstrong", "Mack the Knife", 1955, _WEST),
    ("Dave Brubeck Quartet", "Take Five", 1959, _WEST),
    # rock'n'roll
    ("Bill Haley & His Comets", "Rock Around the Clock", 1954, _WEST),
    ("Bill Haley & His Comets", "Shake, Rattle and Roll", 1954, _WEST),
    ("Bill Haley & His Comets", "See You Later, Alligator", 1956, _WEST),
    ("Elvis Presley", "Heartbreak Hotel", 1956, _WEST),
    ("Elvis Presley", "Hound Dog", 1956, _WEST),
    ("Elvis Presley", "Jailhouse Rock", 1957, _WEST),
    ("Little Richard", "Tutti Frutti", 1955, _WEST),
    ("Little Richard", "Long Tall Sally", 1956, _WEST),
    ("Chuck Berry", "Roll Over Beethoven", 1956, _WEST),
    ("Chuck Berry", "Johnny B. Goode", 1958, _WEST),
    # the Beatles and after
    ("the Beatles", "Please Please Me", 1963, _WEST),
    ("the Beatles", "Can't Buy Me Love", 1964, _WEST),
    ("the Beatles", "Yesterday", 1965, _WEST),
    ("the Beatles", "Sgt. Pepper's Lonely Hearts Club Band", 1967, _WEST),
    ("the Beatles", "Back in the U.S.S.R.", 1968, _WEST),
    ("the Beatles", "Let It Be", 1970, _WEST),
    ("the Rolling Stones", "(I Can't Get No) Satisfaction", 1965, _WEST),
    ("Led Zeppelin", "Stairway to Heaven", 1971, _WEST),
    ("Deep Purple", "Smoke on the Water", 1972, _WEST),
    ("Pink Floyd", "Money", 1973, _WEST),
    ("ABBA", "Dancing Queen", 1976, _WEST),
    ("Boney M.", "Rasputin", 1978, _WEST),
    ("Pink Floyd", "Another Brick in the Wall", 1979, _WEST),
    # bards, taped at apartment concerts
    ("Bulat Okudzhava", "Polnochny trolleybus", 1957, _HOME),
    ("Bulat Okudzhava", "Pesenka ob Arbate", 1959, _HOME),
    ("Bulat Okudzhava", "Bumazhny soldat", 1959, _HOME),
    ("Bulat Okudzhava", "Molitva Fransua Viyona", 1963, _HOME),
    ("Bulat Okudzhava", "Vozmyomsya za ruki, druzya", 1967, _HOME),
    ("Yuri Vizbor", "Milaya moya", 1961, _HOME),
    ("Yuri Vizbor", "Ty u menya odna", 1964, _HOME),
    ("Vladimir Vysotsky", "Tatuirovka", 1961, _HOME),
    ("Vladimir Vysotsky", "Na Bolshom Karetnom", 1962, _HOME),
    ("Vladimir Vysotsky", "Pesnya o druge", 1966, _HOME),
    ("Vladimir Vysotsky", "Spasite nashi dushi", 1967, _HOME),
    ("Vladimir Vysotsky", "Okhota na volkov", 1968, _HOME),
    ("Vladimir Vysotsky", "Koni priveredlivye", 1972, _HOME),
    ("Alexander Galich", "Oblaka", 1962, _HOME),
    ("Alexander Galich", "Staratelsky valsok", 1963, _HOME),
    ("Alexander Galich", "Pamyati Pasternaka", 1966, _HOME),
    ("Alexander Galich", "Peterburgsky romans", 1968, _HOME),
    ("Yuli Kim", "Fantastika-romantika", 1963, _HOME),
    ("Yuli Kim", "Advokatsky vals", 1969, _HOME),
    # Soviet rock at apartment concerts (kvartirniki), taped like the bards
    ("Mashina Vremeni", "Povorot", 1979, _HOME),
    ("Kino", "Khochu peremen", 1986, _HOME),
)

_TAG = 0x7469746C   # "titl": keeps these draws apart from every other stream seeded by the run's seed


def name_title(seed: int, index: int, source: str, year: int) -> tuple[str, str, int | None]:
    """``(performer, name, song_year)`` of title ``index`` that arrived by ``source`` in ``year``.

    ``song_year`` is ``None`` for an anonymous recording (:data:`ANONYMOUS`). Deterministic: the
    same seed, index, source and year always give the same song.

    >>> name_title(1, 0, "bard", 1970)[0] in {s[0] for s in SONGS if "bard" in s[3]}
    True
    >>> name_title(1, 0, "bard", 1950)
    ('anonymous', 'untitled recording', None)
    """
    fits = [s for s in SONGS if source in s[3] and s[2] <= year]
    if not fits:
        return (*ANONYMOUS, None)
    age = np.array([year - max(s[2], 1946) for s in fits], dtype=np.float64)
    w = 0.5 ** (np.maximum(age, 0.0) / HALF_LIFE_YEARS)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, _TAG, int(index)])
    pick = fits[int(rng.choice(len(fits), p=w / w.sum()))]
    return pick[0], pick[1], pick[2]


def name_titles(seed: int, sources: list[str | None], years: list[int]) -> list[tuple[str, str, int | None]]:
    """:func:`name_title` for titles ``0 .. len(sources) - 1`` (``None`` source: anonymous)."""
    return [name_title(seed, i, s, y) if s is not None else (*ANONYMOUS, None)
            for i, (s, y) in enumerate(zip(sources, years))]
