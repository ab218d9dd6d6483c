#!/usr/bin/env python
"Rewrite README.md from nbs/index.ipynb (nbdev_readme needs quarto, which is not available here)."
from fastcore.script import call_parse
from build_docs import write_readme  # beside this script

@call_parse
def main(root:str=None): # repository root (default: the one holding this script)
    write_readme(root)
