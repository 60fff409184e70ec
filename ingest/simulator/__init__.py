"""A realistic, deterministic (seeded) simulated province for `motcua simulate`.

- `province`, `catalogue`: units (departments, district People's Committees,
  communes and wards, codes `H44.xx`) and procedures by field, and what each
  unit draws from the seed (volume, on-time target, online share).
- `arrivals`: when dossiers arrive (working-hour peaks, quiet weekends,
  nothing on Tết and holidays).
- `dossiers`: one dossier's whole life, planned at its receipt in working-time
  offsets, so its outcome is known by construction.
- `emit`: a plan as canonical events or as DongBoHoSoMC sync snapshots.
- `truth`: the plan judged at an instant, and II.06a totals, without the
  pipeline's rule code: the independent route to check the pipeline against.
- `simulation`: the window day by day as one time-ordered stream;
  `pacing`: the same stream on a live clock; `outputs`, `command`: the CLI.
"""
