"""Operations: `recruit run` (every pass under one lock), `recruit demo`, `recruit init`."""
