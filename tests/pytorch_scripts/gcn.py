# Kipf & Welling's GCN in the style of the pygcn repository (layers.py, models.py, utils.py,
# train.py), with npgrad imported as torch. Its sparse adjacency goes through
# torch.sparse.FloatTensor and torch.spmm; the citation dataset is replaced by a planted
# partition graph (scipy.sparse by NumPy), generated in load_data.
import math
import time

import numpy as np

import npgrad as torch
import npgrad.nn as nn
import npgrad.nn.functional as F
import npgrad.optim as optim
from npgrad.nn.modules.module import Module
from npgrad.nn.parameter import Parameter


class GraphConvolution(Module):
    """Simple GCN layer, similar to https://arxiv.org/abs/1609.02907"""

    def __init__(self, in_features, out_features, bias=True):
        super(GraphConvolution, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        if bias:
            self.bias = Parameter(torch.FloatTensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        if self.bias is not None:
            return output + self.bias
        else:
            return output

    def __repr__(self):
        return (
            self.__class__.__name__
            + " ("
            + str(self.in_features)
            + " -> "
            + str(self.out_features)
            + ")"
        )


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super(GCN, self).__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


def normalize(mx):
    """Row-normalize a matrix (dense here; pygcn's is scipy.sparse)."""
    rowsum = np.array(mx.sum(1))
    r_inv = np.power(rowsum, -1).flatten()
    r_inv[np.isinf(r_inv)] = 0.0
    return r_inv[:, None] * mx


def sparse_mx_to_torch_sparse_tensor(mx):
    """Convert a matrix's non-zeros to a torch sparse tensor."""
    row, col = np.nonzero(mx)
    indices = torch.from_numpy(np.vstack((row, col)).astype(np.int64))
    values = torch.from_numpy(mx[row, col].astype(np.float32))
    shape = torch.Size(mx.shape)
    return torch.sparse.FloatTensor(indices, values, shape)


def load_data(nodes=600, classes=4, features=300, seed=0):
    """A planted partition graph: nodes link within their class far more often than across;
    binary bag-of-words features, each class using some words more often than others."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(classes, size=nodes)
    same = labels[:, None] == labels[None, :]
    links = rng.rand(nodes, nodes) < np.where(same, 0.04, 0.004)
    adj = np.triu(links, 1)
    adj = (adj + adj.T).astype(np.float32)
    word_rates = 0.02 + 0.04 * rng.rand(classes, features)
    feats = normalize((rng.rand(nodes, features) < word_rates[labels]).astype(np.float32))
    adj = normalize(adj + np.eye(nodes, dtype=np.float32))
    idx_train = torch.LongTensor(range(80))
    idx_val = torch.LongTensor(range(80, 200))
    idx_test = torch.LongTensor(range(200, nodes))
    return (
        sparse_mx_to_torch_sparse_tensor(adj),
        torch.FloatTensor(np.array(feats)),
        torch.LongTensor(labels),
        idx_train,
        idx_val,
        idx_test,
    )


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


def main(epochs=200, seed=42):
    np.random.seed(seed)
    torch.manual_seed(seed)
    adj, features, labels, idx_train, idx_val, idx_test = load_data()
    model = GCN(nfeat=features.shape[1], nhid=16, nclass=labels.max().item() + 1, dropout=0.5)
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)

    def train(epoch):
        t = time.time()
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
        acc_train = accuracy(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()
        model.eval()
        output = model(features, adj)
        loss_val = F.nll_loss(output[idx_val], labels[idx_val])
        acc_val = accuracy(output[idx_val], labels[idx_val])
        if epoch % 50 == 0:
            print(
                "Epoch: {:04d}".format(epoch + 1),
                "loss_train: {:.4f}".format(loss_train.item()),
                "acc_train: {:.4f}".format(acc_train.item()),
                "loss_val: {:.4f}".format(loss_val.item()),
                "acc_val: {:.4f}".format(acc_val.item()),
                "time: {:.4f}s".format(time.time() - t),
            )

    def test():
        model.eval()
        output = model(features, adj)
        loss_test = F.nll_loss(output[idx_test], labels[idx_test])
        acc_test = accuracy(output[idx_test], labels[idx_test])
        print(
            "Test set results:",
            "loss= {:.4f}".format(loss_test.item()),
            "accuracy= {:.4f}".format(acc_test.item()),
        )
        return acc_test.item()

    print(model.gc1)
    t_total = time.time()
    for epoch in range(epochs):
        train(epoch)
    print("Optimization Finished!")
    print("Total time elapsed: {:.4f}s".format(time.time() - t_total))
    return test()


if __name__ == "__main__":
    main()
