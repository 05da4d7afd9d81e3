function mpc = three_machine
% Three machines on a five-bus loop; written for gridcoherence's tests (MATPOWER format).
mpc.version = '2';
mpc.baseMVA = 100;
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1.04	0	230	1	1.1	0.9;
	2	2	0	0	0	0	1	1.02	0	230	1	1.1	0.9;
	3	2	0	0	0	0	1	1.02	0	230	1	1.1	0.9;
	4	1	150	40	0	0	1	1	0	230	1	1.1	0.9;
	5	1	100	30	0	0	1	1	0	230	1	1.1	0.9;
];
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	0	0	300	-300	1.04	200	1	400	0;
	2	90	0	300	-300	1.02	150	1	200	0;
	3	80	0	300	-300	1.02	120	1	200	0;
];
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	4	0.01	0.08	0.02	250	250	250	0	0	1	-360	360;
	4	2	0.01	0.10	0.02	250	250	250	0	0	1	-360	360;
	2	5	0.02	0.12	0.02	250	250	250	0	0	1	-360	360;
	5	3	0.01	0.09	0.02	250	250	250	0	0	1	-360	360;
	3	1	0.02	0.11	0.02	250	250	250	0	0	1	-360	360;
];
