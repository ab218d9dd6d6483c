#!/usr/bin/env python
"""The README and the documentation site, made from the notebooks and checked against them: `python scripts/build_docs.py`
builds the site into `_docs/` offline (`nbdev_docs` builds it with quarto); `scripts/make_readme.py` rewrites the README.
A development tool, outside the package: it needs nbdev, nbconvert, jinja2 and MathJax, which `dico_nb` does not.
`nbs/09_docs.ipynb` explains and tests it."""

from __future__ import annotations
import ast, hashlib, io, json, os, re, shutil, subprocess, functools, importlib.util
from contextlib import redirect_stdout
from fastcore.script import call_parse
from pathlib import Path
import yaml, nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from execnb.nbio import read_nb, nb2str, write_nb
from nbdev.config import get_config
from nbdev.process import extract_directives
from nbdev.processors import FilterDefaults
from nbdev.quarto import nbdev_sidebar
from nbdev.doclinks import _nbpath2html
from nbdev.clean import clean_nb
from execnb.shell import CaptureShell
from fastcore.xtras import working_directory

__all__ = ['MATHJAX', 'cell_md', 'nb2md', 'readme_path', 'readme_md', 'write_readme', 'readme_command', 'proc_nb', 'md_for_html',
           'quarto_cells', 'sidebar_pages', 'page_html', 'copy_images', 'mathjax_dir', 'build_docs',
           'module_deps', 'data_files', 'outputs_key', 'stored_key', 'stale_notebooks', 'skipped', 'drop_bars', 'run_notebook', 'NotebookError']

def _outputs_md(cell)->str:
    "Text outputs of a code cell as a fenced block (images and widgets are left to the docs site)."
    txt = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': txt.append(''.join(o['text']))
        elif 'text/plain' in o.get('data', {}) and not any(k.startswith('image/') for k in o['data']):
            txt.append(''.join(o['data']['text/plain']))
    txt = ''.join(t if t.endswith('\n') else t + '\n' for t in txt)
    return f"```\n{txt}```\n" if txt else ''

def cell_md(cell)->str:
    "Markdown for one cell: markdown verbatim, code fenced with its outputs, `#| hide` cells dropped."
    if cell.cell_type == 'markdown': return cell.source.strip() + '\n'
    if cell.cell_type != 'code': return ''
    src = cell.source.splitlines(True)
    directives = extract_directives(cell, remove=False)
    if 'hide' in directives or 'default_exp' in directives: return ''
    code = ''.join(l for l in src if not re.match(r'\s*#\s*\|', l)).strip()
    echo = 'echo: false' not in cell.source
    return (f"```python\n{code}\n```\n" if code and echo else '') + _outputs_md(cell)

_re_img = re.compile(r'(!\[[^\]]*\]\()([^)\s]+)')   # ![alt](path)
_re_link = re.compile(r'(!?\[[^\]]*\]\()([^)\s]+)') # ![alt](path) or [text](path)

def nb2md(nb_path:Path,      # the notebook
          rel_to:Path=None): # rewrite paths of images and links to files next to the notebook relative to this folder
    "GitHub markdown for the notebook at `nb_path`."
    nb_path = Path(nb_path)
    md = '\n'.join(p for p in map(cell_md, read_nb(nb_path).cells) if p).rstrip() + '\n'
    def _rel(m):
        img = nb_path.parent/m[2]
        return m[1] + (Path(os.path.relpath(img, rel_to)).as_posix() if img.is_file() else m[2])
    return md if rel_to is None else _re_link.sub(_rel, md)

def readme_path(root:Path=None)->Path:
    "The repository's README.md (`root` defaults to the parent of `nbs/`)."
    return Path(root or Path(__file__).resolve().parents[1])/'README.md'

def readme_md(root:Path=None)->str:
    "What README.md must hold: `nbs/index.ipynb` as GitHub markdown."
    root = Path(root or Path(__file__).resolve().parents[1])
    return nb2md(root/'nbs'/'index.ipynb', rel_to=root)

def write_readme(root:Path=None):
    "Rewrite `README.md` from `nbs/index.ipynb`."
    readme_path(root).write_text(readme_md(root))

def readme_command(which:str,       # 'main' or 'test'
                   readme:str=None): # README text (default: the repository's)
    "The shell command in the fenced block after `<!-- {which}-command -->` in the README."
    readme = readme if readme is not None else readme_path().read_text()
    m = re.findall(rf'<!-- {which}-command -->\s*```(?:sh|bash)?\n(.*?)```', readme, re.S)
    if len(m) != 1: raise ValueError(f"README must hold exactly one `<!-- {which}-command -->` block, found {len(m)}")
    return m[0].strip()

def proc_nb(path:Path): # a notebook
    "The notebook at `path` after nbdev's docs processors, as `nbdev_docs` hands it to quarto."
    nb, old = read_nb(path), os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'
    try: FilterDefaults()(nb)
    finally:
        if old is None: del os.environ['IN_TEST']
        else: os.environ['IN_TEST'] = old
    return nb

_re_attr_link = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{((?:\s*[\w-]+="[^"]*")*)\s*\}')

def md_for_html(md:str,           # markdown from a processed notebook
                site_url:str=''): # the published site's address: links into it become relative
    "`md` with pandoc's link attributes made HTML and links into the site made relative."
    md = _re_attr_link.sub(lambda m: f'<a href="{m[2]}" {m[3].strip()}>{m[1]}</a>', md)
    return md.replace(site_url.rstrip('/') + '/', '') if site_url else md

def quarto_cells(nb,              # a processed notebook (`proc_nb`)
                 site_url:str=''): # passed to `md_for_html`
    "`nb` with quarto's cell options applied: no frontmatter cell, no `#|` lines, `echo`/`output`/`include: false`."
    cells = []
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.startswith('---'): continue  # the frontmatter, kept in `nb.frontmatter_`
        if c.cell_type == 'markdown': c.source = md_for_html(c.source, site_url)
        if c.cell_type == 'code':
            opts = {k.rstrip(':'): ' '.join(v) for k, v in extract_directives(c, remove=False).items()}
            c.source = re.sub(r'^(?:[ \t]*#\s*\|.*(?:\n|$))+', '', c.source)  # the `#|` lines quarto reads
            if opts.get('include') == 'false': continue
            if opts.get('echo') == 'false': c.metadata['transient'] = {'remove_source': True}  # nbconvert's flag
            if opts.get('output') == 'false': c.outputs = []
            for o in c.outputs:
                if 'text/markdown' in o.get('data', {}):
                    o['data']['text/markdown'] = md_for_html(''.join(o['data']['text/markdown']), site_url)
        cells.append(c)
    nb.cells = cells
    return nb

def sidebar_pages(nbs:Path)->list: # the notebooks' folder
    "The notebooks of the site in the order of nbdev's sidebar."
    buf = io.StringIO()
    with redirect_stdout(buf): nbdev_sidebar.__wrapped__(path=nbs, printit=True)
    yml = yaml.safe_load(buf.getvalue() or (Path(nbs)/'sidebar.yml').read_text())
    def _flat(items): return [f for o in items for f in ([o] if isinstance(o, str) else _flat(o.get('contents', [])))]
    return [Path(nbs)/f for f in _flat(yml['website']['sidebar']['contents'])]

MATHJAX = 'mathjax/tex-svg-full.js'  # where the pages load MathJax 3 from, inside the site

_CSS = """
body.jp-Notebook {display: flex; align-items: flex-start; margin: 0; padding: 0; overflow: visible}
nav.sidebar {position: sticky; top: 0; flex: 0 0 15rem; height: 100vh; overflow-y: auto; box-sizing: border-box;
  padding: 1.5rem 1rem; background: #f7f7f9; border-right: 1px solid #e3e3e3; font-family: var(--jp-ui-font-family)}
nav.sidebar .site-title {display: block; margin: 0 0 1rem .6rem; font-size: 1.3rem; font-weight: 600; color: #2780e3; text-decoration: none}
nav.sidebar ul {list-style: none; margin: 0; padding: 0}
nav.sidebar li a {display: block; padding: .3rem .6rem; border-radius: .25rem; color: #343a40; text-decoration: none; font-size: .95rem}
nav.sidebar li a:hover {background: #e9ecef}
nav.sidebar li a.active {background: #2780e3; color: #fff}
main {flex: 1 1 auto; min-width: 0; max-width: 64rem; padding: 1.5rem 2.5rem 4rem}
header.title-block {font-family: var(--jp-content-font-family); margin-bottom: 1.5rem; padding-bottom: .5rem; border-bottom: 1px solid #e3e3e3}
header.title-block h1 {font-size: 2.2rem; margin: 0 0 .5rem}
header.title-block .description {font-size: 1.15rem; font-style: italic; opacity: .7}
.jp-RenderedMarkdown pre {background: #f7f7f9; padding: .5rem .75rem; border-radius: .25rem}
"""

_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], processEscapes: true}};</script>
<script defer src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}<style>{{ resources.site_css }}</style>{%- endblock html_head_css -%}
{% block input %}{# as lab's, less its bleach pass over pygments' own output (a third of the time) #}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline"><div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
</div></div>
{%- endblock input %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<nav class="sidebar"><a class="site-title" href="index.html">{{ resources.site_title | e }}</a><ul>
{%- for title, href in resources.nav %}
<li><a href="{{ href }}"{% if href == resources.here %} class="active" aria-current="page"{% endif %}>{{ title | e }}</a></li>
{%- endfor %}
</ul></nav>
<main>
<header class="title-block"><h1 class="title">{{ resources.fm.title | e }}</h1>
{%- if resources.fm.description %}<div class="description">{{ resources.fm.description | markdown2html }}</div>{% endif %}</header>
{%- endblock body_header -%}
"""

@functools.lru_cache(None)
def _exporter():
    return HTMLExporter(template_name='lab', extra_loaders=[DictLoader({'page.html.j2': _TEMPLATE})],
                        template_file='page.html.j2', mathjax_url=MATHJAX,
                        exclude_input_prompt=True, exclude_output_prompt=True)

def page_html(nb,                # a processed notebook after `quarto_cells`
              nav:list,          # (title, file) of every page, for the sidebar
              here:str,          # this page's file
              site_title:str=''):
    "One page of the site: the notebook as HTML, with the sidebar, its title and MathJax 3."
    fm = dict(nb.get('frontmatter_') or {})
    fm.setdefault('title', Path(nb.get('path_', here)).stem)
    res = dict(metadata=dict(name=fm['title']), nav=nav, here=here, fm=fm, site_title=site_title, site_css=_CSS)
    html, _ = _exporter().from_notebook_node(nbformat.reads(nb2str(nb), as_version=4), resources=res)
    html = re.sub(r'href="([\w.-]+\.ipynb)(#[^"]*)?"', lambda m: f'href="{_nbpath2html(Path(m[1])).name}{m[2] or ""}"', html)  # as quarto does
    return re.sub(r'(<h[1-6] id="|<a class="anchor-link" href="#)([^"]+)', lambda m: m[1] + m[2].lower(), html)

def copy_images(nb,       # a processed notebook
                nbs:Path, # the notebooks' folder
                out:Path  # the site's folder
               )->list:
    "Copy the local images shown by `nb`'s markdown, and by the markdown its cells output, from `nbs` into `out`, at the same relative paths."
    done = []
    for c in nb.cells:
        md = c.source if c.cell_type == 'markdown' else ''.join(''.join(o.get('data', {}).get('text/markdown', '')) for o in c.get('outputs', []))
        for m in _re_img.finditer(md):
            src = Path(nbs)/m[2]
            if src.is_file() and src.resolve().is_relative_to(Path(nbs).resolve()):
                (Path(out)/m[2]).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, Path(out)/m[2]); done.append(m[2])
    return done

def mathjax_dir()->Path:
    "MathJax 3's `es5/` folder, as the `django-static-mathjax` package installs it."
    spec = importlib.util.find_spec('mathjax')
    d = Path(spec.origin).parent/'static'/'mathjax'/'es5' if spec and spec.origin else Path('/nowhere')
    if not (d/'tex-svg-full.js').is_file():
        raise FileNotFoundError("MathJax 3 not found: `pip install django-static-mathjax` (part of `pip install -e '.[dev]'`)")
    return d

def build_docs(out:Path=None, # where the site goes (default: `doc_path` of settings.ini, `_docs/`)
               nbs:Path=None  # the notebooks (default: `nbs_path` of settings.ini)
              )->list:
    "Build the docs site offline from nbdev's processed notebooks; return the pages written."
    cfg = get_config()
    nbs, out = Path(nbs or cfg.nbs_path), Path(out or cfg.doc_path)
    site_url = cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')
    nbs_ = [quarto_cells(proc_nb(p), site_url) for p in sidebar_pages(nbs)]
    nav = [(nb.frontmatter_.get('title', Path(nb.path_).stem), _nbpath2html(Path(nb.path_)).name) for nb in nbs_]
    (out/'mathjax').mkdir(parents=True, exist_ok=True)
    shutil.copy(mathjax_dir()/'tex-svg-full.js', out/MATHJAX)
    shutil.copy(mathjax_dir().parent/'LICENSE', out/'mathjax'/'LICENSE')
    for nb, (_, fn) in zip(nbs_, nav):
        copy_images(nb, nbs, out)
        (out/fn).write_text(page_html(nb, nav, fn, cfg.get('title', '')))
    return [out/fn for _, fn in nav]

# The notebooks keep their outputs: the pages show what the notebooks compute. Outputs are stale when the code that
# made them changed since: the notebook's code cells, the `dico_nb` modules they import directly (not what those
# modules import in turn), the scripts and the saved files (results) they name. `outputs_key` hashes exactly that; `run_notebook` stores it in the notebook's metadata.

KEY = 'dico_nb'  # the notebook metadata key (settings.ini's `allowed_metadata_keys` lets nbdev_clean keep it)

def _code(nb)->list: return [c.source for c in nb.cells if c.cell_type == 'code']

def module_deps(srcs:list,        # Python sources
                pkg:Path)->list:  # the package's folder
    "The package's modules the sources import themselves, sorted (not the modules those import in turn)."
    seen = set()
    for src in srcs:
        try: tree = ast.parse(re.sub(r'^\s*[%!].*$', '', src, flags=re.M))  # IPython magics and shell lines out
        except SyntaxError: continue
        for n in ast.walk(tree):
            names = []
            if isinstance(n, ast.ImportFrom):
                if n.level: names = [n.module] if n.module else [a.name for a in n.names]  # `from .model import x`, `from . import model`
                elif n.module == pkg.name: names = [a.name for a in n.names]       # `from dico_nb import model`
                elif (n.module or '').startswith(pkg.name + '.'): names = [n.module.split('.', 1)[1]]
            elif isinstance(n, ast.Import): names = [a.name.split('.', 1)[1] for a in n.names if a.name.startswith(pkg.name + '.')]
            for m in names:
                f = pkg/f"{m.split('.')[0]}.py"
                if f.is_file(): seen.add(f)
    return sorted(seen)

def _tracked(root:Path)->set:
    "The files git tracks under `root` (every file not hidden, outside git): a key must not depend on local leftovers."
    r = subprocess.run(['git', 'ls-files', '-z'], cwd=root, capture_output=True, text=True)
    if r.returncode == 0: return {(root/f).resolve() for f in r.stdout.split('\0') if f}
    return {p.resolve() for p in root.rglob('*') if p.is_file() and not any(q.startswith('.') for q in p.relative_to(root).parts)}

def data_files(path:Path,   # a notebook
               srcs:list,   # its code cells
               root:Path)->list: # the repository
    "The tracked files that the notebook's code names in a string, as a path from its folder or from the repository: a saved table, a results folder, the shipped weights (not notebooks, and not the package, which `module_deps` follows import by import)."
    here, root, found = Path(path).resolve().parent, Path(root).resolve(), set()
    for s in srcs:
        for m in re.findall(r"""['"]([\w][\w./-]*)['"]""", s):
            for f in {(here/m).resolve(), (root/m).resolve()}:
                if f in (here, root) or not f.is_relative_to(root) or not f.exists(): continue
                found.update(p for p in ([f] if f.is_file() else f.rglob('*')) if p.suffix != '.ipynb' and not p.is_relative_to(root/'dico_nb'))
    return sorted(found & _tracked(root))

def outputs_key(path:Path,          # a notebook in nbs/
                root:Path=None)->str: # the repository (default: the notebook folder's parent)
    "Hash of what a notebook's outputs depend on: its code cells, the package modules they import directly, the scripts and saved files they name."
    path = Path(path).resolve(); root = Path(root or path.parent.parent).resolve()
    srcs, h = _code(read_nb(path)), hashlib.sha256()
    scripts = sorted({root/'scripts'/m for s in srcs for m in re.findall(r'\b(\w+\.py)\b', s) if (root/'scripts'/m).is_file()})
    scripts += sorted(root/'scripts'/f'{m}.py' for m in {m for s in srcs for m in re.findall(r'^\s*from (\w+) import', s, re.M)}
                      if (root/'scripts'/f'{m}.py').is_file() and root/'scripts'/f'{m}.py' not in scripts)
    for s in srcs: h.update(s.encode() + b'\0')
    deps = module_deps(srcs + [f.read_text() for f in scripts], root/'dico_nb')   # the scripts' own imports too
    for f in deps + scripts + data_files(path, srcs, root): h.update(f'{f.relative_to(root)}\0'.encode() + f.read_bytes() + b'\0')
    return h.hexdigest()[:16]

def stored_key(path:Path)->str:
    "The key stored when the notebook was last run ('' if never)."
    return json.loads(Path(path).read_text()).get('metadata', {}).get(KEY, {}).get('outputs_of', '')

def stale_notebooks(nbs:Path,           # the notebooks' folder
                    root:Path=None)->list: # the repository
    "The notebooks with code whose stored outputs were not made by their current code and modules."
    return [p for p in sorted(Path(nbs).glob('*.ipynb')) if not p.name.startswith(('_', '.')) and _code(read_nb(p))
            and stored_key(p) != outputs_key(p, root)]

def skipped(cell, flags:set)->bool:
    "Whether the test run skips `cell` (nbdev_test's rule): not code, `nbdev_export()`, `#| eval: false`, or a flag in `flags`."
    if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
    d = extract_directives(cell, remove=False)
    return d.get('eval:', [''])[0].lower() == 'false' or bool(flags & d.keys())

class NotebookError(RuntimeError): pass

_BAR = re.compile(r'\d+%\|.*\|')  # a tqdm progress bar, as it redraws itself on stderr

def drop_bars(outputs:list)->list:
    "`outputs` less the progress bars in their stderr streams (a bar is a moment, not a result)."
    keep = []
    for o in outputs:
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr':
            lines = [l for l in re.split(r'[\r\n]+', ''.join(o['text'])) if l.strip() and not _BAR.search(l)]
            if not lines: continue
            o = dict(o, text='\n'.join(lines) + '\n')
        keep.append(o)
    return keep

def run_notebook(path:Path,           # the notebook: run in its folder, rewritten in place with its outputs
                 root:Path=None,      # the repository (default: the notebook folder's parent)
                 flags:set=None)->str: # cells flagged so are not run and keep their old outputs (default: settings.ini's tst_flags)
    "Run every cell the tests run, keep the outputs and the key they belong to; raise `NotebookError` at the first failing cell."
    path = Path(path).resolve()
    flags = set(get_config().get('tst_flags', '').split() if flags is None else flags)
    nb, env = read_nb(path), {k: os.environ.get(k) for k in ('IN_TEST', 'TQDM_DISABLE', 'MPLBACKEND')}
    os.environ.update(IN_TEST='1', TQDM_DISABLE='1')   # as the tests run it; progress bars are not results
    os.environ.pop('MPLBACKEND', None)
    for c in nb.cells:   # a cell that prints nothing now must not keep what it printed before (execnb keeps old outputs then)
        if not skipped(c, flags): c.outputs = []
    shell = None
    try:
        shell = CaptureShell(path, mpl_format='png')
        with working_directory(path.parent): shell.run_all(nb, exc_stop=True, preproc=lambda c: skipped(c, flags))
    except Exception as e: raise NotebookError(f"{path.name}: a cell failed, the notebook is left as it was\n{shell.prettytb(fname=path) if shell else e}") from e
    finally:
        for k, v in env.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = drop_bars(c.outputs)
    nb.metadata[KEY] = dict(outputs_of=outputs_key(path, root))
    clean_nb(nb, clear_all=False, allowed_metadata_keys=[KEY])  # as nbdev_clean leaves it, outputs kept
    write_nb(nb, path)
    return nb.metadata[KEY]['outputs_of']

@call_parse
def main(out:str=None,  # where the site goes (default: settings.ini's doc_path, `_docs/`)
         nbs:str=None): # the notebooks (default: settings.ini's nbs_path)
    "Build the site offline and say where it is."
    pages = build_docs(out, nbs)
    print(f"{len(pages)} pages in {pages[0].parent}: open {pages[0]}")
