/*  zchain_load.c - placeholder */
int main (void) { return 0; }
