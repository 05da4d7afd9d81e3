"""Write fig3_5.json and fig3_5.png; see gridcoherence.experiments.sbm_reduction.fig3_5."""

from gridcoherence.experiments.sbm_reduction import main

if __name__ == "__main__":
    main("fig3_5")
