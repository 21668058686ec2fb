# Independent GGUF header dump (struct only) used to obtain the expected values in GgufRealDataTest.
# Run: /usr/bin/python3 ggufdump.py FILE.gguf
import struct, sys
f = open(sys.argv[1],'rb').read()
p = 0
def rd(fmt):
    global p
    v = struct.unpack_from('<'+fmt, f, p); p += struct.calcsize('<'+fmt); return v[0]
def rstr():
    global p
    n = rd('Q'); s = f[p:p+n]; p += n; return s.decode('utf-8', 'replace')
TY = {0:'B',1:'b',2:'H',3:'h',4:'I',5:'i',6:'f',7:'?',10:'Q',11:'q',12:'d'}
def val(t):
    if t == 8: return rstr()
    if t == 9:
        et = rd('I'); n = rd('Q'); return ('arr', et, n, [val(et) for _ in range(n)])
    return rd(TY[t])
magic = f[:4]; p = 4
ver = rd('I'); nt = rd('Q'); nkv = rd('Q')
print(magic, ver, nt, nkv)
for _ in range(nkv):
    k = rstr(); t = rd('I'); v = val(t)
    if isinstance(v, tuple): print(k, t, 'arr', v[1], v[2], v[3][:5])
    else: print(k, t, repr(v))
for _ in range(nt):
    name = rstr(); nd = rd('I'); dims = [rd('Q') for _ in range(nd)]; ty = rd('I'); off = rd('Q')
    print(name, dims, ty, off)
print('end of infos', p)
