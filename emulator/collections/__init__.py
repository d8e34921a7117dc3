"""One module per Graph collection the emulator serves, each declaring `COLLECTION` (its
emulator.spec.Collection: schema, roles, paging limits, order, filters, seed generator, actions).

emulator.resources finds every module here whose name does not start with "_" and builds the
table from them; modules starting with "_" hold what several collections share (a seed family
whose records must agree).
"""
