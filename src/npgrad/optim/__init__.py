"""Optimizers and learning-rate schedules, named and behaving as ``torch.optim``."""

from npgrad.optim import lr_scheduler, swa_utils
from npgrad.optim.adadelta import Adadelta
from npgrad.optim.adagrad import Adagrad
from npgrad.optim.adam import Adam, AdamW
from npgrad.optim.adamax import Adamax
from npgrad.optim.asgd import ASGD
from npgrad.optim.lbfgs import LBFGS
from npgrad.optim.nadam import NAdam
from npgrad.optim.optimizer import Optimizer
from npgrad.optim.radam import RAdam
from npgrad.optim.rmsprop import RMSprop
from npgrad.optim.rprop import Rprop
from npgrad.optim.sgd import SGD
from npgrad.optim.sparse_adam import SparseAdam
