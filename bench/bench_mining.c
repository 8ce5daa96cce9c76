/*  bench_mining.c - placeholder */
int main (void) { return 0; }
