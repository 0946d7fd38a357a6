export const CONSOLE_STYLESHEET_PATH = '/admin/assets/console.css';

/** The console's look; class names are listed in the README's console section for page authors. */
export const CONSOLE_STYLESHEET = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;--accent:#1f5fd6;--line:#d8dbe0;--bg:#f4f5f7;--panel:#fff;--muted:#5f6368;--danger:#b00020}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:#1c1c1f;line-height:1.45}
a{color:var(--accent)}
.console-header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding:.6rem 1rem;background:#1c2533;color:#fff}
.console-header .brand{color:#fff;font-weight:700;text-decoration:none}
.console-header form{display:flex;align-items:center;gap:.5rem;margin:0;font-size:.9rem}
.console-header button{margin:0;padding:.3rem .7rem;background:transparent;color:#fff;border-color:#8a94a6}
.console-nav{background:var(--panel);border-bottom:1px solid var(--line)}
.console-nav ul{list-style:none;margin:0 auto;padding:.4rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem;max-width:72rem}
.console-nav a{display:block;padding:.3rem .6rem;border-radius:.4rem;text-decoration:none;color:inherit;font-size:.95rem}
.console-nav a[aria-current=page]{background:var(--accent);color:#fff}
.console-main{max-width:72rem;margin:0 auto;padding:1rem}
.console-main.narrow{max-width:26rem;margin-top:2rem}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:.6rem;padding:1rem;margin:0 0 1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .6rem}h3{font-size:1rem;margin:1rem 0 .4rem}
.banner{padding:.6rem .8rem;border-radius:.4rem;margin:0 0 1rem}
.notice{background:#e8f0fe}.error{color:var(--danger)}.banner.error{background:#fde7ea}
.warning{background:#fff4d6;padding:.6rem;border-radius:.4rem}
.muted{color:var(--muted);font-size:.9rem;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table.data{width:100%;border-collapse:collapse;font-size:.95rem}
table.data th,table.data td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
table.data thead th{font-size:.85rem;color:var(--muted);font-weight:600}
table.facts{border-collapse:collapse}table.facts th{text-align:left;padding:.25rem 1rem .25rem 0;font-weight:600;vertical-align:top}table.facts td{padding:.25rem 0;overflow-wrap:anywhere}
form.stack{max-width:28rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}label.check input{width:auto}
input,select,textarea{width:100%;padding:.55rem;font-size:1rem;border:1px solid #aab;border-radius:.4rem;font-family:inherit;background:var(--panel);color:inherit}
textarea{min-height:8rem;font-family:ui-monospace,monospace;font-size:.9rem}
.field-error{color:var(--danger);font-size:.9rem;margin:.25rem 0 0}
[aria-invalid=true]{border-color:var(--danger)}
button{margin-top:.75rem;padding:.5rem 1rem;font-size:1rem;border-radius:.4rem;border:1px solid #888;background:var(--panel);color:inherit;cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{background:var(--danger);border-color:var(--danger);color:#fff}
button.link{margin:0;padding:0;border:0;background:none;color:var(--accent);text-decoration:underline;font-size:inherit}
form.inline{display:inline-flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:0}
form.inline button{margin:0;padding:.3rem .7rem;font-size:.9rem}
form.inline input{width:auto;min-width:8rem;padding:.3rem .5rem;font-size:.9rem}form.inline label{margin:0}
.panel>form.inline[role=search]{margin-bottom:.75rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:1rem;font-size:.8rem;background:#e6e8eb;white-space:nowrap}
.badge.ok{background:#dcf3e2;color:#135c2b}.badge.bad{background:#fde7ea;color:#8a0016}.badge.warn{background:#fff4d6;color:#6b4e00}
.once{background:#fff4d6;border:1px dashed #b38600;padding:.6rem;border-radius:.4rem}
.once code{font-size:1.05rem;user-select:all;overflow-wrap:anywhere}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr))}
.stat{font-size:1.6rem;font-weight:700}
section.request+section.request{border-top:1px solid var(--line);padding-top:.75rem;margin-top:.75rem}
fieldset{border:0;padding:0;margin:.5rem 0}legend{padding:0}
details summary{cursor:pointer;color:var(--accent)}
code{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
@media (max-width:40rem){.console-main{padding:.6rem}.panel{padding:.75rem}table.data{font-size:.9rem}}
@media (prefers-color-scheme:dark){:root{--bg:#111;--panel:#1c1c1f;--line:#333;--muted:#aaa}body{color:#eee}.notice{background:#1f2a44}.banner.error{background:#4a1820}.error{color:#ff8a80}.warning,.once{background:#4a3b10}.badge{background:#333}}
.audit-note{white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:.85rem;background:var(--bg);padding:.6rem;border-radius:.4rem}.audit-hashes{padding-left:1.5rem;font-size:.85rem}@media (max-width:40rem){.audit-records thead{display:none}.audit-records tr{display:block;border-bottom:1px solid var(--line);padding:.4rem 0}.audit-records table.data td{display:block;border:0;padding:.1rem .25rem}.audit-records td::before{content:attr(data-label) ": ";font-weight:600}}
.keys-kid{overflow-wrap:anywhere}
.settings-field{margin:0 0 .9rem}.settings-field small{display:block;margin-top:.2rem}.settings-label{display:block;font-weight:600;margin:.75rem 0 .25rem}fieldset.settings-group{min-width:0}.settings-diff table.data thead th{overflow-wrap:normal;white-space:nowrap}
`;
