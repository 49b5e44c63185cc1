from shared.migrate import run_env

from services.disputes.models import Base

run_env(Base.metadata)
