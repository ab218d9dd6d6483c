#!/usr/bin/env python
"XE vs DiCO vs SCST on shapes_test over seeds (runs what is missing; finished stages are skipped) -> nbs/results/shapes_table.md"
from fastcore.script import call_parse, Param
from dico_nb.pipeline import shapes_table

@call_parse
def main(seeds:Param("seeds to run and average", int, nargs='+')=[0],
         out:str='nbs/results/shapes_table.md'): # where the table goes
    print(shapes_table(seeds, ('dico', 'scst'), out))
