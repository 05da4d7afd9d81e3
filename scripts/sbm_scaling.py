"""Write sbm_scaling.json and sbm_scaling.png; see gridcoherence.experiments.sbm_reduction.sbm_scaling."""

from gridcoherence.experiments.sbm_reduction import main

if __name__ == "__main__":
    main("sbm_scaling")
