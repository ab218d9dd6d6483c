#!/usr/bin/env python
"XE vs DiCO (and SCST) on shapes_test over seeds (runs what is missing; finished stages are skipped) -> nbs/results/shapes_table.md"
from fastcore.script import call_parse, Param
from dico_nb.pipeline import shapes_table

@call_parse
def main(seeds:Param("seeds to run and average", int, nargs='+')=[0],
         baselines:Param("fine-tuning methods next to XE", str, nargs='+')=['dico', 'scst'],
         out:str='nbs/results/shapes_table.md'): # where the table goes
    print(shapes_table(seeds, baselines, out))
