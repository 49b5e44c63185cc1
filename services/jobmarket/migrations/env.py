from shared.migrate import run_env

from services.jobmarket.models import Base

run_env(Base.metadata)
