#!/usr/bin/env python3
# What a kill -9 costs (issue 15.8): the local world of four /8s (20 ms
# latency) crawled once uninterrupted, then a crawl killed with kill -9 at
# 40 % of those requests and resumed to the end; prints the world's request
# counts and the ratio (killed + resumed) / uninterrupted.
#   scripts/bench-kill.py [IPCRAWL_BINARY] [WORKDIR]
import subprocess, json, os, signal, time, sys, tempfile
B=sys.argv[1] if len(sys.argv)>1 else 'target/release/ipcrawl'
B=os.path.abspath(B)
work=sys.argv[2] if len(sys.argv)>2 else tempfile.mkdtemp(prefix='ipcrawl-kill.')
os.makedirs(work, exist_ok=True); os.chdir(work)
SC=['1.0.0.0/8','23.0.0.0/8','185.0.0.0/8','200.0.0.0/8']
def world():
    if os.path.exists('urls.txt'): os.remove('urls.txt')
    args=[B,'world','--latency-ms','20','--urls','urls.txt']
    for s in SC: args+=['--scope',s]
    p=subprocess.Popen(args,stdout=subprocess.DEVNULL,stderr=open('w.err','w'))
    while not (os.path.exists('urls.txt') and os.path.getsize('urls.txt')>0): time.sleep(0.1)
    time.sleep(0.2)
    urls=[l.strip() for l in open('urls.txt')]
    return p,urls
def stop(p):
    p.send_signal(signal.SIGINT); p.wait()
    last=open('w.err').read().strip().splitlines()[-1]
    return sum(v['requests'] for v in json.loads(last).values())
def crawl(db,urls,kill_at=None):
    a=[B,'--db',db,'crawl','--progress','json','--progress-every','0.2','--today','2026-08-25']
    for u in urls: a+=['--registry',u,'--stats',u]
    for r in ['arin','ripe','apnic','lacnic','afrinic']: a+=['--rate',r+'=unlimited']
    p=subprocess.Popen(a,stdout=subprocess.DEVNULL,stderr=subprocess.PIPE,text=True)
    for line in p.stderr:
        try: v=json.loads(line)
        except Exception: continue
        if kill_at and v.get('run_queries',0)>=kill_at:
            p.kill(); break
    p.wait(); return p.returncode
def seeds(db):
    a=[B,'--db',db,'gen-seeds']
    for s in SC: a+=['--within',s]
    subprocess.run(a,capture_output=True)
seeds('base.redb'); w,u=world(); crawl('base.redb',u); base=stop(w)
res=[]
for frac in [0.4]:
    db=f'k{frac}.redb'; seeds(db)
    w,u=world(); rc=crawl(db,u,int(base*frac)); r1=stop(w)
    w,u=world(); rc2=crawl(db,u); r2=stop(w)
    res.append((frac,r1,r2,(r1+r2)/base,rc,rc2))
for frac, r1, r2, ratio, rc, rc2 in res:
    print(f"uninterrupted {base} requests; killed at {frac:.0%} ({r1} requests, exit {rc}) + resumed ({r2}, exit {rc2}) = {ratio:.3f}x")
