#!/usr/bin/env python
"Rewrite README.md from nbs/index.ipynb (nbdev_readme needs quarto, which is not available here)."
from fastcore.script import call_parse
from dico_nb.docs import write_readme

@call_parse
def main(root:str=None): # repository root (default: the one holding the installed `dico_nb`)
    write_readme(root)
