#!/usr/bin/env python
"Build the documentation site into `_docs/` offline (`nbdev_docs` builds it with quarto); run from the repository."
from fastcore.script import call_parse
from dico_nb.docs import build_docs

@call_parse
def main(out:str=None,  # where the site goes (default: settings.ini's doc_path, `_docs/`)
         nbs:str=None): # the notebooks (default: settings.ini's nbs_path)
    pages = build_docs(out, nbs)
    print(f"{len(pages)} pages in {pages[0].parent}: open {pages[0]}")
