"The documentation site: `scripts/build_docs.py` builds it offline, headless Chromium opens every page."
import io, json, os, re, shutil, subprocess, sys, tokenize
from pathlib import Path
import pytest
from nbdev.doclinks import _nbpath2html  # nbdev's page name for a notebook (`00c_data.ipynb` -> `data.html`)

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
CHROMIUM = Path('/usr/bin/chromium')  # Debian's package; .ci/run installs it
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run']
HOME_SHOT = ROOT/'nbs'/'results'/'docs_home.png'

def page(nb): return _nbpath2html(nb).name

def shown_outputs(nb:Path)->list:
    "The outputs a reader of `nb`'s page should see: those of code cells not hidden (`#| hide`, `include: false`, `output: false`)."
    cells = [c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    hidden = re.compile(r'^\s*#\s*\|\s*(hide\s*$|export|default_exp|include:\s*false|output:\s*false)', re.M)  # nbdev drops export cells from the page
    return [o for c in cells if not hidden.search(''.join(c['source'])) for o in c.get('outputs', [])]

def is_figure(o:dict)->bool:
    "An image output, or markdown output showing an image (a saved figure)."
    return any(k.startswith('image/') for k in o.get('data', {})) or bool(re.search(r'!\[[^\]]*\]\(', ''.join(o.get('data', {}).get('text/markdown', ''))))

def code_only(src:str)->str:
    "A cell's Python without its strings and comments (so a notebook that writes plotting code into a test file does not count as drawing)."
    try: toks = list(tokenize.generate_tokens(io.StringIO(re.sub(r'^\s*[%!].*$', '', src, flags=re.M)).readline))
    except (tokenize.TokenError, SyntaxError): return src
    return ' '.join(t.string for t in toks if t.type not in (tokenize.STRING, tokenize.COMMENT))

def expected(nb:Path)->dict:
    "What the page of `nb` must show: from its markdown cells (code spans and blocks left out), and the figures and values its code cells keep."
    md = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'markdown')
    md = re.sub(r'```.*?```|`[^`\n]*`', '', md, flags=re.S)
    outs = shown_outputs(nb)
    return dict(math=bool(re.search(r'\$\$.+?\$\$|\$[^$\s][^$]*\$', md, re.S)),
                tables=len(re.findall(r'^\s*\|?\s*:?-{3,}:?\s*\|', md, re.M)),
                images=len(re.findall(r'!\[[^\]]*\]\(', md)),
                figures=sum(map(is_figure, outs)), values=sum(not is_figure(o) and o['output_type'] != 'error' and o.get('name') != 'stderr' for o in outs))

def test_notebooks_show_what_they_compute():
    "Every notebook with code keeps at least one displayed value, and every notebook with code that draws shows a figure (kept, or a saved file)."
    draws = re.compile(r'plt \.|\. imshow \(|subplots \(|_figure \(|\bshow_(?!doc)\w+ \(')  # on `code_only`'s spaced tokens
    nbs = [nb for nb in NBS if any(c['cell_type'] == 'code' for c in json.loads(nb.read_text())['cells'])]
    mute = [nb.name for nb in nbs if not expected(nb)['values']]
    def draws_here(c): return c['cell_type'] == 'code' and '#| export' not in ''.join(c['source']) and draws.search(code_only(''.join(c['source'])))
    blind = [nb.name for nb in nbs if not (expected(nb)['figures'] or expected(nb)['images'])
             and any(map(draws_here, json.loads(nb.read_text())['cells']))]
    assert not mute, f"no value shown in {mute}"
    assert not blind, f"code that draws but no figure kept in {blind}: run `python scripts/run_notebooks.py`"

def test_title_cells_hold_only_frontmatter():
    "nbdev turns a notebook's first markdown cell into the page's title and description and drops the rest of it."
    def extra(nb):
        cell = next(c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'markdown')
        return [l for l in ''.join(cell['source']).splitlines() if l.strip() and not re.match(r'(#\s|>\s|-\s+\S.*:)', l)]
    lost = {nb.name: extra(nb)[0][:60] + '...' for nb in NBS if extra(nb)}
    assert not lost, f"text after the title and description would vanish from the docs, move it to a cell of its own: {lost}"

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site, built by the script into a temporary folder."
    out = tmp_path_factory.mktemp('site')
    r = subprocess.run([sys.executable, 'scripts/build_docs.py', '--out', str(out)], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, f"scripts/build_docs.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return out

def test_every_notebook_has_a_page(site):
    missing = [nb.name for nb in NBS if not (site/page(nb)).is_file()]
    assert not missing, f"no page for {missing}"
    assert (site/'index.html').is_file() and (site/'mathjax'/'tex-svg-full.js').is_file()

# Run in each page once MathJax is done: what a reader sees, with code, scripts and typeset math taken out of the text.
_LOOK = """async () => {
  await (window.MathJax && MathJax.startup && MathJax.startup.promise);
  const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  return {math: document.querySelectorAll('main mjx-container').length,
          math_errors: document.querySelectorAll('mjx-merror').length,
          tables: document.querySelectorAll('main table').length,
          figures: document.querySelectorAll('main .jp-OutputArea-output img').length,
          values: [...document.querySelectorAll('main .jp-OutputArea-output')].filter(e => !e.querySelector('img') && e.textContent.trim()
                    && e.getAttribute('data-mime-type') !== 'application/vnd.jupyter.stderr').length,
          images: [...document.images].map(i => [i.getAttribute('src').slice(0, 50), i.complete && i.naturalWidth > 0]),
          nav: [...document.querySelectorAll('nav.sidebar li a')].map(a => a.getAttribute('href')),
          title: document.querySelector('header.title-block h1').textContent,
          text: main.textContent};
}"""

def _problems(name:str, got:dict, want:dict)->list:
    "What is wrong with page `name`, as seen (`got`) against its notebook (`want`)."
    bad = []
    if not got['title'].strip(): bad.append('no title')
    if want['math'] and not got['math']: bad.append('its equations were not typeset')
    if got['math_errors']: bad.append(f"{got['math_errors']} MathJax errors")
    raw = re.findall(r'\$\$.+?\$\$|\$[^$\s][^$]*\$', got['text'], re.S)
    if raw: bad.append(f"raw math left: {raw[:3]}")
    if got['tables'] < want['tables']: bad.append(f"{got['tables']} tables for {want['tables']} in the markdown")
    if re.search(r'\|\s*:?-{3,}', got['text']): bad.append('a markdown table left as text')
    if len(got['images']) < want['images']: bad.append(f"{len(got['images'])} images for {want['images']} in the markdown")
    bad += [f'image not loaded: {src}' for src, ok in got['images'] if not ok]
    if got['figures'] < want['figures']: bad.append(f"{got['figures']} figures shown for {want['figures']} the notebook keeps")
    if want['values'] and not got['values']: bad.append(f"no displayed value shown for {want['values']} the notebook keeps")
    if sorted(got['nav']) != sorted(page(nb) for nb in NBS): bad.append(f"sidebar links {got['nav']}")
    return [f'{name}: {b}' for b in bad]

@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: the docs pages are checked in Debian's "
                    "headless Chromium (`apt-get install -y chromium`, as root; .ci/run does it)")
def test_pages_in_chromium(site, tmp_path):
    "Every page loads with nothing from outside the site, its math typeset, its tables and images shown."
    from playwright.sync_api import sync_playwright
    problems, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        tab = browser.new_page(viewport=dict(width=1280, height=900))
        tab.on('request', lambda r: r.url.startswith(('file:', 'data:')) or outside.append(r.url))
        tab.on('requestfailed', lambda r: problems.append(f'{r.url}: request failed'))
        tab.on('pageerror', lambda e: problems.append(f'{tab.url}: script error {e}'))
        for nb in NBS:
            tab.goto((site/page(nb)).as_uri())
            problems += _problems(page(nb), tab.evaluate(_LOOK), expected(nb))
            tab.screenshot(path=str(tmp_path/f'{page(nb)}.png'))
        browser.close()
    if os.environ.get('DICO_UPDATE_RESULTS') == '1':  # tests never write into the source tree unless asked to refresh the results
        shutil.copy(tmp_path/'index.html.png', HOME_SHOT)
    assert not outside, f"pages fetched from outside the site: {outside[:5]}"
    assert not problems, '\n'.join(problems)
