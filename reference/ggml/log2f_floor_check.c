#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
/* Compares floor(log2f(x)) of this libm with floor((float)(e + log(m)/ln2)) for every positive finite float. */
int main(void) {
    long bad = 0, n = 0;
    for (uint32_t b = 1; b < 0x7f800000u; b++) {
        float x; memcpy(&x, &b, 4);
        float g = floorf(log2f(x));
        int e; double m = frexp((double)x, &e); /* x = m*2^e, m in [0.5,1) */
        m *= 2; e -= 1;
        float c = floorf((float)(e + log(m) / log(2.0)));
        if (g != c) { if (bad < 10) printf("x=%a bits=%08x glibc=%g cr=%g\n", x, b, g, c); bad++; }
        n++;
    }
    printf("checked %ld, mismatches %ld\n", n, bad);
    return 0;
}
